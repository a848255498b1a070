import { EventEmitter } from 'node:events'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { blankStatus, type CloneStatus, type MachineState } from '../protocol/status.ts'
import type { CaptureView } from './captures.ts'
import { Refusal } from './respond.ts'

/** refused: not in --allow; queued: sent back by the operator, to clone at its next boot; capturing: its disk is going to the image store. */
export type ServerMachineState = MachineState | 'refused' | 'queued' | 'capturing'

/** The operator's "capture as NAME": the machine's next boot sends its disk to the image store. */
export interface CaptureMark {
  image: string
  /** Take the place of a stored image of that name. */
  replace: boolean
}

export interface Machine extends Omit<CloneStatus, 'state'> {
  state: ServerMachineState
  ip: string
  firstSeen: number
  lastSeen: number
  /** When its clone began (its config handed out) and when it was complete (ms since epoch). */
  startedAt: number | null
  doneAt: number | null
  /** The image it is to hold, by name; null: the server's default image. */
  image: string | null
  /** The operator accepted it: it may be imaged whatever --allow says. */
  accepted: boolean
  /** Info hash of the image its disk holds, complete; null once it is sent back or being rewritten. */
  holds: string | null
  /** Info hash of the image its last config named. */
  fetched: string | null
  /** What the operator calls it (pc-07); null: its id is its name. */
  name: string | null
  /** Marked for capture: kept until a capture from it is stored (a failed one is tried again at its next boot). */
  capture: CaptureMark | null
}

/**
 * Every machine the server has heard of, with what it reported and what the
 * operator decided for it, kept in STATE/machines.json so that a restarted
 * server still lists and decides the same. Each operator action is also
 * appended to STATE/actions.log, one JSON line each. Every change is emitted
 * as 'change' (before, after): the event stream and the history follow it.
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
      for (const m of list) this.byId.set(m.id, { ...blankMachine(m.id, m.ip ?? '', m.firstSeen ?? Date.now()), ...m })
    } catch {}
  }

  get (id: string): Machine | undefined {
    return this.byId.get(id)
  }

  /** The machine asked for its boot script or config from IP: known from now on. */
  seen (id: string, ip: string): Machine {
    const m = this.byId.get(id)
    // A flood of made-up ids must not grow the list (and machines.json) without end.
    if (!m && this.byId.size >= MAX_MACHINES) throw new Refusal(503, `this server already knows ${MAX_MACHINES} machines: ${id} is not taken on; is something on the network inventing ids?`)
    // A machine that waits asks every 2 s: its lastSeen alone is not worth a write.
    if (m && (!ip || ip === m.ip)) {
      m.lastSeen = Date.now()
      return m
    }
    return this.put({ ...(m ?? blankMachine(id, ip, Date.now())), ip: ip || m?.ip || '', lastSeen: Date.now() })
  }

  /** It was given the config for the image of INFOHASH: a clone begins. */
  handedOut (id: string, ip: string, infoHash: string): Machine {
    const m = this.seen(id, ip)
    const state = m.state === 'waiting' || m.state === 'refused' || m.state === 'queued' ? 'booting' : m.state
    return this.put({ ...m, fetched: infoHash, state, error: null, startedAt: Date.now(), doneAt: null })
  }

  report (status: CloneStatus, ip: string): Machine {
    const now = Date.now()
    const prev = this.byId.get(status.id) ?? blankMachine(status.id, ip, now)
    const complete = status.state === 'done' || status.state === 'seeding'
    return this.put({
      ...prev,
      ...status,
      // Sent back while it seeds its old clone: it stays queued until it boots.
      state: prev.state === 'queued' && complete ? 'queued' : status.state,
      ip,
      lastSeen: now,
      // A clone starts when its config is handed out; `ezio clone --report` gets none.
      startedAt: status.state === 'cloning' && !cloneOpen(prev) ? now : prev.startedAt,
      doneAt: complete ? prev.doneAt ?? now : null,
      holds: complete ? prev.fetched ?? prev.holds : status.state === 'cloning' ? null : prev.holds
    })
  }

  refuse (id: string, ip: string, reason: string): Machine {
    const m = this.seen(id, ip)
    return this.put({ ...m, ...blankStatus(id, 'failed', m.total), state: 'refused', error: reason })
  }

  /** A machine that waits for the operator. */
  waiting (id: string, ip: string, reason: string): Machine {
    const m = this.seen(id, ip)
    return m.state === 'waiting' && m.error === reason ? m : this.put({ ...m, state: 'waiting', error: reason })
  }

  accept (id: string): Machine {
    const m = this.byId.get(id) ?? blankMachine(id, '', Date.now())
    this.log('accept', id)
    return this.put({ ...m, accepted: true, error: m.state === 'waiting' ? null : m.error })
  }

  /**
   * Its next boot clones again, whatever its disk holds. A machine mid-clone
   * goes on: the clone it is making is the new image.
   */
  reimage (id: string): Machine | undefined {
    const m = this.byId.get(id)
    if (!m) return undefined
    this.log('reimage', id)
    return this.put(isBusy(m) ? { ...m, holds: null } : { ...m, holds: null, fetched: null, state: 'queued', error: null })
  }

  /** NAME for machine ID, or null to drop it; names are unique across the room. */
  name (id: string, name: string | null): Machine | undefined {
    const m = this.byId.get(id)
    if (!m) return undefined
    const other = name === null ? undefined : this.list().find(o => o.id !== id && o.name === name)
    if (other) throw new NameTaken(`${name} is already the name of ${other.id}: pick another, or rename that one first`)
    this.log('name', id, { name })
    return this.put({ ...m, name })
  }

  /**
   * Marks machine ID for capture (null: unmarks it; a capture under way goes
   * on). Like assign, a machine not seen yet may be named by its MAC: the
   * reference PC is then never offered an image first.
   */
  markCapture (id: string, mark: CaptureMark | null): Machine {
    const m = this.byId.get(id) ?? blankMachine(id, '', Date.now())
    const other = mark && this.list().find(o => o.id !== id && o.capture?.image === mark.image)
    if (other) throw new NameTaken(`${other.id} is marked for capture as ${mark.image} already: one machine per image name`)
    this.log(mark ? 'mark-capture' : 'unmark-capture', id, mark ? { ...mark } : {})
    return this.put({ ...m, capture: mark })
  }

  /** It was given its capture config: whatever it was doing, it now sends its disk. */
  capturing (id: string, ip: string): Machine {
    const m = this.seen(id, ip)
    return this.put({ ...m, ...blankStatus(id, 'booting'), state: 'capturing', startedAt: null, doneAt: null })
  }

  /**
   * The capture from it ended. Stored: its disk holds that image, so its
   * next boot is from its disk. Failed: it says why, and stays marked, so
   * that its next boot tries again.
   */
  captureEnded (c: CaptureView): void {
    const m = c.machine ? this.byId.get(c.machine) : undefined
    if (!m) return
    if (c.state === 'done' && c.infoHash) {
      const capture = m.capture?.image === c.name ? null : m.capture
      this.put({ ...m, state: 'done', error: null, capture, image: c.name, holds: c.infoHash, fetched: c.infoHash, bytesDone: c.usedBytes, total: c.usedBytes, doneAt: Date.now() })
    } else if (m.state === 'capturing') {
      this.put({ ...m, state: 'failed', error: c.error ?? null })
    }
  }

  assign (id: string, image: string): Machine {
    const m = this.byId.get(id) ?? blankMachine(id, '', Date.now())
    this.log('assign', id, { image })
    return this.put({ ...m, image })
  }

  list (): Machine[] {
    return [...this.byId.values()].sort((a, b) => a.firstSeen - b.firstSeen)
  }

  /** Appends an operator action to STATE/actions.log. */
  log (action: string, id: string, detail: Record<string, unknown> = {}): void {
    const line = JSON.stringify({ at: new Date().toISOString(), action, id, ...detail }) + '\n'
    fs.appendFile(path.join(this.stateDir, 'actions.log'), line).catch(() => {})
  }

  async flush (): Promise<void> {
    while (this.saving) await this.saving
    if (this.dirty) await this.save()
  }

  private put (m: Machine): Machine {
    const before = this.byId.get(m.id)
    this.byId.set(m.id, m)
    this.emit('change', before, m)
    this.dirty = true
    if (!this.saving) this.saving = this.save().finally(() => { this.saving = undefined })
    return m
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

function blankMachine (id: string, ip: string, now: number): Machine {
  return {
    ...blankStatus(id, 'waiting'),
    ip,
    firstSeen: now,
    lastSeen: now,
    startedAt: null,
    doneAt: null,
    image: null,
    accepted: false,
    holds: null,
    fetched: null,
    name: null,
    capture: null
  }
}

export class NameTaken extends Error {}

/** More than any lab; a bound on what a LAN host can make the server keep. */
export const MAX_MACHINES = 2048

const busy: ServerMachineState[] = ['booting', 'fetching', 'cloning', 'capturing']

/** M is on its way to a clone or in one: neither finished nor held back. */
export function isBusy (m: Machine): boolean {
  return busy.includes(m.state)
}

/** M is in the middle of a clone: started, not done, not failed. */
export function cloneOpen (m: Machine): boolean {
  return m.startedAt !== null && m.doneAt === null && isBusy(m)
}
