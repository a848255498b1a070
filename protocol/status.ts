import type { SwarmProgress } from '../engine/swarm/clone.ts'
import { ProtocolError } from './error.ts'

export type MachineState = 'booting' | 'fetching' | 'waiting' | 'cloning' | 'seeding' | 'done' | 'failed'

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
  const s = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<CloneStatus>
  if (typeof s.id !== 'string' || !s.id || typeof s.state !== 'string') throw new ProtocolError('the status has no id or state')
  // Only a status's own fields: whatever else a report carries is dropped,
  // never stored beside what the server decided for the machine.
  const { id, state, bytesDone, total, reused, refetched, downRate, upRate, fromSeeder, fromPeers, uploaded, peers, eta, error } = s as CloneStatus
  return { id, state, bytesDone, total, reused, refetched, downRate, upRate, fromSeeder, fromPeers, uploaded, peers, eta, error }
}
