import { isBusy, type Machine } from './machines.ts'

export interface RoomTotals {
  machines: number
  done: number
  failed: number
  waiting: number
  active: number
  downRate: number
  upRate: number
  bytesDone: number
  bytesTotal: number
  fromSeeder: number
  fromPeers: number
  /** Seconds from the first clone's start to now, or to the last one's end once none is active. */
  elapsed: number
  /** Seconds until the slowest active machine is done, null when unknown. */
  eta: number | null
}

export function roomTotals (list: Machine[]): RoomTotals {
  const active = list.filter(isBusy)
  const etas = active.map(m => m.eta)
  const starts = list.flatMap(m => m.startedAt ?? [])
  const end = active.length ? Date.now() : Math.max(...list.flatMap(m => m.doneAt ?? []), 0)
  return {
    machines: list.length,
    done: list.filter(m => m.state === 'done' || m.state === 'seeding').length,
    failed: list.filter(m => m.state === 'failed' || m.state === 'refused').length,
    waiting: list.filter(m => m.state === 'waiting').length,
    active: active.length,
    downRate: sum(active.map(m => m.downRate)),
    upRate: sum(list.map(m => m.upRate)),
    bytesDone: sum(list.map(m => m.bytesDone)),
    bytesTotal: sum(list.map(m => m.total)),
    fromSeeder: sum(list.map(m => m.fromSeeder)),
    fromPeers: sum(list.map(m => m.fromPeers)),
    elapsed: starts.length ? Math.max(0, Math.round((end - Math.min(...starts)) / 1000)) : 0,
    eta: active.length === 0 ? 0 : etas.some(e => e === null) ? null : Math.max(...(etas as number[]))
  }
}

function sum (xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0)
}
