import { createHash } from 'node:crypto'
import type WebTorrent from 'webtorrent'
import type { Torrent, Wire } from 'webtorrent'

interface Block {
  wire: Wire
  offset: number
  data: Uint8Array
}

interface Suspect {
  wire: Wire
  offset: number
  length: number
  digest: string
}

/** A piece that failed with blocks from several peers: only KEEP may send it until it resolves. */
interface Parole {
  keep: Wire
  hidden: Set<Wire>
}

/**
 * Bans the peers that send corrupt data. webtorrent drops a piece that fails
 * its hash and asks again, often of the same peers: with large pieces made of
 * blocks from several peers, one bad peer spoils nearly every attempt and a
 * clone can fetch the image many times over. So, as libtorrent does:
 * - each block of a piece in flight is remembered with the wire it came from
 *   and the attempt at the piece that asked for it;
 * - a piece that fails with blocks from one peer only gets that peer banned;
 * - a piece that fails with blocks from several peers is put on parole: it
 *   is hidden from all of them but one, so its next attempt comes from that
 *   peer alone and either fails (that peer is banned) or verifies, and then
 *   the peers whose earlier blocks differ from the good data are banned
 *   (smart ban).
 * Bans are by address: a lab machine is one address. Until a piece fails
 * this costs a list entry per block in flight, and no hashing.
 */
export function banBadPeers (client: WebTorrent, torrent: Torrent, readPiece: (index: number) => Promise<Uint8Array>, onBan?: (address: string, wire: Wire) => void): void {
  const bans = new PeerBans(torrent, readPiece, onBan)
  // webtorrent consults client.blocked before every new connection.
  client.blocked = { contains: (host: string) => bans.banned.has(host) }
  torrent.on('wire', (wire: Wire) => bans.watch(wire))
  torrent.on('warning', (err: Error) => {
    const m = /^Piece (\d+) failed verification/.exec(err.message)
    if (m) bans.failed(Number(m[1]))
  })
  torrent.on('verified', (index: number) => bans.verified(index))
}

class PeerBans {
  readonly banned = new Set<string>()
  private readonly inFlight = new Map<number, Block[]>()
  private readonly suspects = new Map<number, Suspect[]>()
  private readonly paroles = new Map<number, Parole>()
  private readonly attempts = new Map<number, number>()

  constructor (private readonly torrent: Torrent, private readonly readPiece: (index: number) => Promise<Uint8Array>, private readonly onBan?: (address: string, wire: Wire) => void) {}

  watch (wire: Wire): void {
    // Incoming connections skip webtorrent's blocklist check.
    if (wire.remoteAddress && this.banned.has(wire.remoteAddress)) return wire.destroy()
    // A block is counted in the attempt that asked for it: blocks of an
    // attempt that already failed still arrive for a while, and webtorrent
    // drops them.
    const request = wire.request.bind(wire)
    wire.request = (index, offset, length, cb) => {
      const attempt = this.attempts.get(index) ?? 0
      request(index, offset, length, (err, data) => {
        if (!err && data && attempt === (this.attempts.get(index) ?? 0) && !this.torrent.bitfield.get(index)) {
          let blocks = this.inFlight.get(index)
          if (!blocks) this.inFlight.set(index, blocks = [])
          blocks.push({ wire, offset, data })
        }
        cb(err, data)
      })
    }
    wire.once('close', () => {
      for (const [index, parole] of this.paroles) if (parole.keep === wire) this.release(index)
    })
  }

  failed (index: number): void {
    const blocks = this.inFlight.get(index) ?? []
    this.inFlight.delete(index)
    this.attempts.set(index, (this.attempts.get(index) ?? 0) + 1)
    const counts = new Map<Wire, number>()
    for (const b of blocks) counts.set(b.wire, (counts.get(b.wire) ?? 0) + 1)
    if (counts.size === 0) return
    if (counts.size === 1) {
      const [wire] = counts.keys()
      this.release(index)
      return this.ban(wire!)
    }
    const known = this.suspects.get(index) ?? []
    for (const b of blocks) known.push({ wire: b.wire, offset: b.offset, length: b.data.length, digest: digest(b.data) })
    this.suspects.set(index, known)
    this.parole(index, counts)
  }

  verified (index: number): void {
    this.inFlight.delete(index)
    this.attempts.delete(index)
    this.release(index)
    const known = this.suspects.get(index)
    if (!known) return
    this.suspects.delete(index)
    this.readPiece(index).then(good => {
      for (const s of known) {
        if (digest(good.subarray(s.offset, s.offset + s.length)) !== s.digest) this.ban(s.wire)
      }
    }, () => { /* the piece is on the disk; a failed re-read only loses the ban */ })
  }

  /** Hides piece INDEX from every peer that sent some of it, but the one that sent most. */
  private parole (index: number, counts: Map<Wire, number>): void {
    let parole = this.paroles.get(index)
    if (!parole || parole.keep.destroyed) {
      this.release(index)
      const keep = [...counts.entries()].filter(([w]) => !w.destroyed).sort((a, b) => b[1] - a[1])[0]?.[0]
      if (!keep) return
      this.paroles.set(index, parole = { keep, hidden: new Set() })
    }
    for (const w of counts.keys()) {
      if (w !== parole.keep && !w.destroyed && w.peerPieces.get(index)) {
        hide(w, index)
        parole.hidden.add(w)
      }
    }
  }

  private release (index: number): void {
    const parole = this.paroles.get(index)
    if (!parole) return
    this.paroles.delete(index)
    for (const w of parole.hidden) show(w, index)
    if (!this.torrent.destroyed) this.torrent._update()
  }

  private ban (wire: Wire): void {
    const address = wire.remoteAddress
    if (!address || this.banned.has(address)) return
    this.banned.add(address)
    this.onBan?.(address, wire)
    for (const w of [...this.torrent.wires]) if (w.remoteAddress === address) w.destroy()
  }
}

type PieceSet = Wire['peerPieces']

// A seeder's "have all" bitfield ignores set(): what the peer has is masked
// instead, for as long as a piece is on parole.
class MaskedPieces implements PieceSet {
  readonly hidden = new Set<number>()
  constructor (readonly inner: PieceSet) {}
  get (index: number): boolean { return !this.hidden.has(index) && this.inner.get(index) }
  set (index: number, value: boolean): void { this.inner.set(index, value) }
  get buffer (): Uint8Array | undefined { return this.inner.buffer }
}

function hide (wire: Wire, index: number): void {
  const pieces = wire.peerPieces instanceof MaskedPieces ? wire.peerPieces : new MaskedPieces(wire.peerPieces)
  pieces.hidden.add(index)
  wire.peerPieces = pieces
}

function show (wire: Wire, index: number): void {
  const pieces = wire.peerPieces
  if (!(pieces instanceof MaskedPieces)) return
  pieces.hidden.delete(index)
  if (pieces.hidden.size === 0) wire.peerPieces = pieces.inner
}

function digest (data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex')
}
