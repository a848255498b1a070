import { EventEmitter } from 'node:events'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { CloneStatus, MachineState } from '../protocol/status.ts'

export type ServerMachineState = MachineState | 'refused'

export interface Machine extends Omit<CloneStatus, 'state'> {
  state: ServerMachineState
  ip: string
  firstSeen: number
  lastSeen: number
  /** When it started cloning and when it was done (ms since epoch). */
  startedAt: number | null
  doneAt: number | null
}

export interface RoomTotals {
  machines: number
  done: number
  failed: number
  active: number
  downRate: number
  upRate: number
  bytesDone: number
  bytesTotal: number
  fromSeeder: number
  fromPeers: number
  /** Seconds since the first machine showed up. */
  elapsed: number
  /** Seconds until the slowest active machine is done, null when unknown. */
  eta: number | null
}

const finished: ServerMachineState[] = ['done', 'failed', 'refused']

/**
 * Every machine that reported, kept in STATE/machines.json so that a
 * restarted server still lists them.
 */
export class Machines extends EventEmitter {
  private readonly byId = new Map<string, Machine>()
  private saving: Promise<void> | undefined
  private dirty = false

  constructor (private readonly stateDir: string) {
    super()
  }

  async load (): Promise<void> {
    try {
      const list = JSON.parse(await fs.readFile(this.file(), 'utf8')) as Machine[]
      for (const m of list) this.byId.set(m.id, m)
    } catch {}
  }

  report (status: CloneStatus, ip: string): Machine {
    const now = Date.now()
    const prev = this.byId.get(status.id)
    const m: Machine = {
      ...status,
      ip,
      firstSeen: prev?.firstSeen ?? now,
      lastSeen: now,
      startedAt: prev?.startedAt ?? (status.state === 'cloning' ? now : null),
      doneAt: status.state === 'done' || status.state === 'seeding' ? prev?.doneAt ?? now : null
    }
    this.byId.set(m.id, m)
    this.changed()
    return m
  }

  refuse (id: string, ip: string, reason: string): void {
    const prev = this.byId.get(id)
    const now = Date.now()
    this.byId.set(id, {
      id, ip, state: 'refused', error: reason, bytesDone: 0, total: prev?.total ?? 0, reused: 0, downRate: 0, upRate: 0,
      fromSeeder: 0, fromPeers: 0, uploaded: 0, peers: 0, eta: null, firstSeen: prev?.firstSeen ?? now, lastSeen: now, startedAt: null, doneAt: null
    })
    this.changed()
  }

  list (): Machine[] {
    return [...this.byId.values()].sort((a, b) => a.firstSeen - b.firstSeen)
  }

  totals (): RoomTotals {
    const list = this.list()
    const active = list.filter(m => !finished.includes(m.state) && m.state !== 'seeding')
    const etas = active.map(m => m.eta)
    const first = Math.min(...list.map(m => m.firstSeen))
    return {
      machines: list.length,
      done: list.filter(m => m.state === 'done' || m.state === 'seeding').length,
      failed: list.filter(m => m.state === 'failed' || m.state === 'refused').length,
      active: active.length,
      downRate: sum(active.map(m => m.downRate)),
      upRate: sum(list.map(m => m.upRate)),
      bytesDone: sum(list.map(m => m.bytesDone)),
      bytesTotal: sum(list.map(m => m.total)),
      fromSeeder: sum(list.map(m => m.fromSeeder)),
      fromPeers: sum(list.map(m => m.fromPeers)),
      elapsed: list.length ? Math.round((Date.now() - first) / 1000) : 0,
      eta: active.length === 0 ? 0 : etas.some(e => e === null) ? null : Math.max(...(etas as number[]))
    }
  }

  async flush (): Promise<void> {
    while (this.saving) await this.saving
    if (this.dirty) await this.save()
  }

  private changed (): void {
    this.emit('change')
    this.dirty = true
    if (!this.saving) this.saving = this.save().finally(() => { this.saving = undefined })
  }

  // Written to a temporary file and renamed: a crash mid-write keeps the old list.
  private async save (): Promise<void> {
    while (this.dirty) {
      this.dirty = false
      const tmp = this.file() + '.tmp'
      await fs.writeFile(tmp, JSON.stringify(this.list()) + '\n')
      await fs.rename(tmp, this.file())
    }
  }

  private file (): string {
    return path.join(this.stateDir, 'machines.json')
  }
}

function sum (xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0)
}
