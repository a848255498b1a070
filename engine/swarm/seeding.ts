import type { Torrent } from 'webtorrent'
import type { Traffic } from './traffic.ts'

export interface SeedPolicy {
  /** Stop once uploaded >= ratio x payload. 0 stops at once. */
  ratio: number
  /** Stop after this many seconds without uploading a byte. */
  idleSeconds: number
}

// How often to ask the tracker whether anyone is still downloading.
const POLL_SECONDS = 5

export type SeedEnd = 'ratio' | 'room-done' | 'idle' | 'immediate'

/** Keeps seeding until the policy says the room no longer needs this machine. */
export function seedUntilDone (torrent: Torrent, traffic: Traffic, payload: number, policy: SeedPolicy): Promise<SeedEnd> {
  if (policy.ratio <= 0) return Promise.resolve('immediate')
  traffic.lastUploadAt = Date.now()
  return new Promise(resolve => {
    const tracker = torrent.discovery?.tracker
    let roomDone = false
    const onUpdate = (data: { incomplete?: number }): void => {
      if (data.incomplete === 0) roomDone = true
    }
    tracker?.on('update', onUpdate)
    const poll = setInterval(() => tracker?.update(), POLL_SECONDS * 1000)
    tracker?.update()
    const tick = setInterval(() => {
      let end: SeedEnd | undefined
      if (traffic.uploaded >= policy.ratio * payload) end = 'ratio'
      else if (roomDone) end = 'room-done'
      else if (Date.now() - traffic.lastUploadAt >= policy.idleSeconds * 1000) end = 'idle'
      if (!end && !torrent.destroyed) return
      clearInterval(tick)
      clearInterval(poll)
      tracker?.removeListener('update', onUpdate)
      resolve(end ?? 'idle')
    }, 250)
  })
}
