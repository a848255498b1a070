import type { Torrent, Wire } from 'webtorrent'
import { isSeederPeerId } from './client.ts'

export interface Traffic {
  fromSeeder: number
  fromPeers: number
  uploaded: number
  lastUploadAt: number
}

/**
 * Splits what this machine downloaded into bytes from the room's seeder (the
 * operator's server, or an address given with --peer) and bytes from other
 * lab machines.
 */
export function countTraffic (torrent: Torrent, seederAddrs: Set<string>): Traffic {
  const traffic: Traffic = { fromSeeder: 0, fromPeers: 0, uploaded: 0, lastUploadAt: Date.now() }
  torrent.on('wire', (wire: Wire) => {
    // A wire is announced after its handshake: who it is does not change.
    const fromSeeder = isSeeder(wire, seederAddrs)
    wire.on('download', (bytes: number) => {
      if (fromSeeder) traffic.fromSeeder += bytes
      else traffic.fromPeers += bytes
    })
    wire.on('upload', (bytes: number) => {
      traffic.uploaded += bytes
      traffic.lastUploadAt = Date.now()
    })
  })
  return traffic
}

/** Whether WIRE is the room's seeder: by its peer id, or as one of the addresses the config names. */
export function isSeeder (wire: Wire, seederAddrs: Set<string>): boolean {
  return isSeederPeerId(wire.peerId) || seederAddrs.has(`${wire.remoteAddress}:${wire.remotePort}`)
}
