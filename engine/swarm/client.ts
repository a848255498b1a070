import { randomBytes } from 'node:crypto'
import WebTorrent from 'webtorrent'
import type { Wire } from 'webtorrent'

// Peer ids say who is who in a room: the operator's seeder and the lab
// machines. Traffic from the seeder is counted apart from peer-to-peer
// traffic, which is the whole point of ezio.
export const SEEDER_ID_PREFIX = '-EZ010S-'
export const CLIENT_ID_PREFIX = '-EZ010C-'

export function peerIdFor (prefix: string): string {
  return Buffer.concat([Buffer.from(prefix), randomBytes(12)]).toString('hex')
}

const SEEDER_HEX = Buffer.from(SEEDER_ID_PREFIX).toString('hex')
// '-EZ010': how both ids begin.
const EZIO_HEX = Buffer.from(CLIENT_ID_PREFIX.slice(0, 6)).toString('hex')

export function isSeederPeerId (hexId: string | null | undefined): boolean {
  return !!hexId && hexId.startsWith(SEEDER_HEX)
}

// 64 KiB per request to ezio's own peers, 16 KiB (the protocol's block, all
// that libtorrent takes) to any other. Each request costs a message each way,
// a callback and a pass of the piece picker: at 16 KiB that overhead kept a
// room of 8 machines at 50 Mbit/s CPU-bound on two cores.
const EZIO_BLOCKS = 4

// Every interested peer unchoked: webtorrent unchokes 10 at a time (trading
// on the Internet). In a room of 16 the server choked 6 machines at a time,
// and the pieces it had offered them waited: the whole room stalled 55 s
// near its end.
export const UPLOAD_SLOTS = 1000

/** What WIRE may be asked at once, once its handshake has said who it is. */
export function tuneWire (wire: Wire): void {
  if (wire.peerId?.startsWith(EZIO_HEX)) wire.ezioBlocks = EZIO_BLOCKS
}

/**
 * A webtorrent client locked down for a lab: TCP only, no DHT, no LSD, no
 * UPnP/NAT-PMP, no web seeds, whatever the torrent says. Peers come from the
 * tracker and from addresses given explicitly.
 */
export function createSwarmClient (opts: { port?: number, seeder?: boolean, uploadLimit?: number }): WebTorrent {
  return new WebTorrent({
    peerId: peerIdFor(opts.seeder ? SEEDER_ID_PREFIX : CLIENT_ID_PREFIX),
    torrentPort: opts.port ?? 0,
    dht: false,
    lsd: false,
    utp: false,
    natUpnp: false,
    natPmp: false,
    webSeeds: false,
    // Plain BitTorrent handshakes: webtorrent's default opens every outgoing
    // connection with protocol encryption and does not fall back, so peers
    // that refuse encryption (libtorrent as ezio upstream runs it) dropped
    // each attempt. A private lab LAN gains nothing from the obfuscation.
    secure: 0,
    maxConns: 100,
    // bytes/s; -1 is webtorrent's "no limit"
    uploadLimit: opts.uploadLimit ?? -1
  })
}

export async function listeningPort (client: WebTorrent): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const addr = client.address()
    if (addr && addr.port) return addr.port
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return client.torrentPort
}
