import type { SwarmProgress } from '../engine/swarm/clone.ts'
import { ProtocolError } from './error.ts'

export const machineStates = ['booting', 'fetching', 'waiting', 'cloning', 'seeding', 'done', 'failed'] as const
export type MachineState = typeof machineStates[number]

/** What a machine says of itself: printed as JSON, and POSTed to the server. */
export interface CloneStatus extends SwarmProgress {
  id: string
  state: MachineState
  /** Seconds until the clone is complete, null when unknown. */
  eta: number | null
  error: string | null
}

export function blankStatus (id: string, state: MachineState, total = 0): CloneStatus {
  return { id, state, bytesDone: 0, total, reused: 0, refetched: 0, downRate: 0, upRate: 0, fromSeeder: 0, fromPeers: 0, uploaded: 0, peers: 0, eta: null, error: null }
}

/** A status report as the server receives it: it names a machine and a state. */
export function parseStatus (text: string): CloneStatus {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new ProtocolError('the status is not JSON')
  }
  const s = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
  if (typeof s.id !== 'string' || !s.id || typeof s.state !== 'string') throw new ProtocolError('the status has no id or state')
  if (!(machineStates as readonly string[]).includes(s.state)) throw new ProtocolError(`the status's state ${s.state.slice(0, 20)} is none of ${machineStates.join(', ')}`)
  // Only a status's own fields, each of its own type: whatever else a report
  // carries is dropped, never stored beside what the server decided for the
  // machine, nor shown on the dashboard.
  const counts = Object.fromEntries(countFields.map(k => [k, s[k] ?? 0])) as Record<typeof countFields[number], unknown>
  for (const [k, v] of Object.entries(counts)) {
    if (!isCount(v)) throw new ProtocolError(`the status's ${k} is not a count: ${String(v).slice(0, 20)}`)
  }
  const eta = s.eta ?? null
  if (eta !== null && !isCount(eta)) throw new ProtocolError('the status\'s eta is neither seconds nor null')
  const error = s.error ?? null
  if (error !== null && typeof error !== 'string') throw new ProtocolError('the status\'s error is neither a text nor null')
  return { id: s.id, state: s.state as MachineState, ...counts as Record<typeof countFields[number], number>, eta, error: error?.slice(0, 500) ?? null }
}

function isCount (v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0
}

const countFields = ['bytesDone', 'total', 'reused', 'refetched', 'downRate', 'upRate', 'fromSeeder', 'fromPeers', 'uploaded', 'peers'] as const
