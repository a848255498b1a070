import bencode from 'bencode'
import { Server } from 'bittorrent-tracker'
import net from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface RoomTracker {
  /** An announce or scrape; SEEDER is this server's seeder as the asking peer reaches it. */
  handle: (req: IncomingMessage, res: ServerResponse, seeder?: { ip: string, port: number }) => void
  close: () => Promise<void>
}

/**
 * An HTTP tracker, mounted at /announce (and /scrape) on the server's own port, that
 * answers only for the torrents this server deploys. A short interval and
 * peer lifetime keep "is anyone still downloading?" close to the truth.
 */
export function roomTracker (infoHashes: () => Set<string>, opts: { intervalSeconds?: number } = {}): RoomTracker {
  const interval = (opts.intervalSeconds ?? 15) * 1000
  const server = new Server({
    http: false,
    udp: false,
    ws: false,
    stats: false,
    interval,
    peersCacheTtl: 4 * interval,
    filter: (hash, _params, cb) => {
      const served = infoHashes()
      if (served.has(hash)) cb(null)
      else cb(new Error(`this tracker serves only this server's images (${[...served].join(', ')}); fetch the torrent from this server again`))
    }
  })
  server.on('warning', () => {})
  server.on('error', () => {})
  return {
    handle: (req, res, seeder) => {
      if (seeder && req.url?.startsWith('/announce')) withSeeder(res, seeder)
      server.onHttpRequest(req, res)
    },
    close: () => new Promise(resolve => server.close(() => resolve()))
  }
}

/**
 * The server's own seeder in every announce answer, at the address the asking
 * peer reached this server at: the seeder never announces itself, since the
 * tracker, on the same host, would hand it out as 127.0.0.1 to everyone. So a
 * standard client given only the torrent finds it, and counts it complete.
 */
function withSeeder (res: ServerResponse, seeder: { ip: string, port: number }): void {
  const end = res.end.bind(res) as (body?: Uint8Array) => ServerResponse
  res.end = ((body?: Uint8Array) => end(body ? addPeer(body, seeder) : body)) as ServerResponse['end']
}

function addPeer (body: Uint8Array, seeder: { ip: string, port: number }): Uint8Array {
  let answer: Record<string, unknown>
  try {
    answer = bencode.decode(body) as Record<string, unknown>
  } catch {
    return body
  }
  if (answer['failure reason'] !== undefined) return body
  answer.complete = (typeof answer.complete === 'number' ? answer.complete : 0) + 1
  const v4 = net.isIPv4(seeder.ip)
  const key = v4 ? 'peers' : 'peers6'
  const peers = answer[key] ?? answer.peers
  if (peers instanceof Uint8Array) {
    answer[key] = Buffer.concat([peers, compact(seeder, v4)])
  } else if (Array.isArray(peers)) {
    answer.peers = [...peers, { ip: seeder.ip, port: seeder.port }]
  } else {
    answer[key] = compact(seeder, v4)
  }
  return bencode.encode(answer)
}

function compact (peer: { ip: string, port: number }, v4: boolean): Buffer {
  const port = Buffer.alloc(2)
  port.writeUInt16BE(peer.port)
  const ip = v4 ? Buffer.from(peer.ip.split('.').map(Number)) : ipv6Bytes(peer.ip)
  return Buffer.concat([ip, port])
}

function ipv6Bytes (ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::')
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  return Buffer.from(groups.flatMap(g => { const n = parseInt(g, 16); return [n >> 8, n & 255] }))
}
