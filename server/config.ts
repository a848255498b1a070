import bencode from 'bencode'
import type { AfterAction, CaptureConfig, DeployConfig } from '../protocol/config.ts'
import type { ServedImage } from './images.ts'
import type { CaptureMark } from './machines.ts'
import { captureToken, reportToken } from './tokens.ts'

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
    report: reportUrl(d, hostPort, id),
    machine: id,
    infoHash: image.meta.infoHash
  }
}

/**
 * Machine ID's config when the operator marked it for capture. It reboots
 * after, whatever --after says: the server then sends it to its own disk,
 * which holds the image it was captured into.
 */
export function captureConfigFor (d: Deployment, mark: CaptureMark, hostPort: string, id: string): CaptureConfig {
  return {
    version: 1,
    capture: mark.image,
    replace: mark.replace,
    target: d.target,
    after: 'reboot',
    token: captureToken(d.reportSecret, id, mark.image),
    report: reportUrl(d, hostPort, id),
    machine: id
  }
}

function reportUrl (d: Deployment, hostPort: string, id: string): string {
  return `http://${hostPort}/api/status?token=${reportToken(d.reportSecret, id)}`
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
