import type { CloneStatus } from '../../protocol/status.ts'
import type { SeedEnd } from '../../engine/swarm/seeding.ts'
import { bar, duration, mb, percent, rate } from '../../engine/format.ts'

// lines: a line every 10 s even on a terminal (several clones in one process).
export type ProgressMode = 'bar' | 'lines' | 'json' | 'none'

export interface ProgressSink {
  update: (status: CloneStatus) => void
  /** Ends the live line, if any, so that the next output starts clean. */
  end: () => void
}

export function statusLine (s: CloneStatus): string {
  return `${bar(s.bytesDone, s.total)} ${percent(s.bytesDone, s.total).padStart(6)} ${s.state.padEnd(8)} ` +
    `down ${rate(s.downRate)} up ${rate(s.upRate)} peers ${s.peers} eta ${duration(s.eta)}`
}

/** Progress on stderr, so that stdout stays for what a caller reads; LABEL starts each line. */
export function progressSink (mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr, label = ''): ProgressSink {
  if (mode === 'json') {
    return { update: s => { stream.write(JSON.stringify(s) + '\n') }, end: () => {} }
  }
  if (mode === 'none') return { update: () => {}, end: () => {} }
  // Not a terminal (a log, the initramfs console piped): one line every 10 s.
  let last = 0
  let live = false
  const prefix = label ? `${label}: ` : ''
  return {
    update: s => {
      if (mode === 'bar' && stream.isTTY) {
        stream.write('\r' + (prefix + statusLine(s)).padEnd((stream.columns ?? 100) - 1).slice(0, (stream.columns ?? 100) - 1))
        live = true
      } else if (Date.now() - last >= 10_000) {
        last = Date.now()
        stream.write(prefix + statusLine(s) + '\n')
      }
    },
    end: () => { if (live) stream.write('\n'); live = false }
  }
}

export function summaryLine (s: CloneStatus, seconds: number): string {
  const avg = seconds > 0 ? (s.bytesDone - s.reused) / seconds : 0
  return `${s.state === 'failed' ? 'failed' : 'cloned'} ${mb(s.bytesDone)} of ${mb(s.total)} MB in ${duration(seconds)} ` +
    `(${rate(avg)}): ${mb(s.reused)} MB reused from the target, ${mb(s.fromSeeder)} MB from the seeder, ` +
    `${mb(s.fromPeers)} MB from peers, ${mb(s.uploaded)} MB uploaded` +
    // Fetched before the scan reached them (a peer had nothing else to give).
    `; ${s.refetched ?? 0} fetched piece${s.refetched === 1 ? ' was' : 's were'} on the target already` +
    (s.error ? `: ${s.error}` : '')
}

const SEED_ENDS: Record<SeedEnd, string> = {
  immediate: 'not seeding (seed ratio 0)',
  ratio: 'it had uploaded its seed ratio',
  'room-done': 'the tracker counted no machine still downloading',
  idle: 'no peer had asked it for anything for its idle time'
}

/** Why the seeding after the clone ended: an admin asks when a machine left the room early. */
export function seedLine (end: SeedEnd, seconds: number): string {
  return end === 'immediate' ? SEED_ENDS[end] : `seeded ${duration(seconds)}, until ${SEED_ENDS[end]}`
}
