import { Server } from 'bittorrent-tracker'
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface RoomTracker {
  handle: (req: IncomingMessage, res: ServerResponse) => void
  close: () => Promise<void>
}

/**
 * An HTTP tracker, mounted at /announce (and /scrape) on the server's own port, that
 * answers only for the torrent this server deploys. A short interval and
 * peer lifetime keep "is anyone still downloading?" close to the truth.
 */
export function roomTracker (infoHash: string, opts: { intervalSeconds?: number } = {}): RoomTracker {
  const interval = (opts.intervalSeconds ?? 15) * 1000
  const server = new Server({
    http: false,
    udp: false,
    ws: false,
    stats: false,
    interval,
    peersCacheTtl: 4 * interval,
    filter: (hash, _params, cb) => {
      if (hash === infoHash) cb(null)
      else cb(new Error(`this tracker serves only ${infoHash}; fetch the torrent from this server again`))
    }
  })
  server.on('warning', () => {})
  server.on('error', () => {})
  return {
    handle: (req, res) => server.onHttpRequest(req, res),
    close: () => new Promise(resolve => server.close(() => resolve()))
  }
}
