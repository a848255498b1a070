import bencode from 'bencode'
import type { AfterAction, DeployConfig } from '../protocol/config.ts'
import type { ServedImage } from './images.ts'
import { reportToken } from './tokens.ts'

/** What every machine's config shares: set by ezio serve's options. */
export interface Deployment {
  target: string
  after: AfterAction
  seedRatio: number
  seedIdle: number
  btPort: number
  /** The secret each machine's report token is made from. */
  reportSecret: string
}

/** The id of a config handed to no machine in particular: no report is taken with its token. */
export const ANYONE = '*'

/** Machine ID's config for IMAGE, with every address as the machine reached us. */
export function configFor (d: Deployment, image: ServedImage, host: string, hostPort: string, id: string): DeployConfig {
  return {
    version: 1,
    torrent: `http://${hostPort}/${image.name}.torrent`,
    target: d.target,
    after: d.after,
    seedRatio: d.seedRatio,
    seedIdle: d.seedIdle,
    // A tracker on the seeder's own host hands the seeder out as 127.0.0.1:
    // name it here as the machine can reach it.
    peers: [`${host}:${d.btPort}`],
    report: `http://${hostPort}/api/status?token=${reportToken(d.reportSecret, id)}`,
    machine: id,
    infoHash: image.meta.infoHash
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
