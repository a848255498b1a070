export type MachineState = 'booting' | 'fetching' | 'waiting' | 'cloning' | 'seeding' | 'done' | 'failed'

/** What a machine says of itself: printed as JSON, and POSTed to the server. */
export interface CloneStatus {
  id: string
  state: MachineState
  bytesDone: number
  total: number
  reused: number
  downRate: number
  upRate: number
  fromSeeder: number
  fromPeers: number
  uploaded: number
  peers: number
  /** Seconds until the clone is complete, null when unknown. */
  eta: number | null
  error: string | null
}

export function blankStatus (id: string, state: MachineState, total = 0): CloneStatus {
  return { id, state, bytesDone: 0, total, reused: 0, downRate: 0, upRate: 0, fromSeeder: 0, fromPeers: 0, uploaded: 0, peers: 0, eta: null, error: null }
}
