import bencode from 'bencode'
import type { AfterAction, DeployConfig } from '../protocol/config.ts'

export interface Deployment {
  name: string
  target: string
  after: AfterAction
  seedRatio: number
  seedIdle: number
  btPort: number
  machineToken: string
}

/** The config a machine fetches, with every address as that machine reached us. */
export function configFor (d: Deployment, host: string, hostPort: string): DeployConfig {
  return {
    version: 1,
    torrent: `http://${hostPort}/ezio.torrent`,
    target: d.target,
    after: d.after,
    seedRatio: d.seedRatio,
    seedIdle: d.seedIdle,
    // A tracker on the seeder's own host hands the seeder out as 127.0.0.1:
    // name it here as the machine can reach it.
    peers: [`${host}:${d.btPort}`],
    report: `http://${hostPort}/api/status?token=${d.machineToken}`
  }
}

/**
 * The torrent with its announce URL pointed at HOSTPORT. The announce lies
 * outside the info dictionary, so the info hash does not change.
 */
export function torrentWithAnnounce (file: Uint8Array, hostPort: string): Uint8Array {
  const torrent = bencode.decode(file) as Record<string, unknown>
  const url = `http://${hostPort}/announce`
  torrent.announce = url
  torrent['announce-list'] = [[url]]
  return bencode.encode(torrent)
}
