// The slice of webtorrent 3 that ezio uses. Only engine/swarm/ may import it:
// the rest of the code base sees the swarm through engine/swarm's own types.
declare module 'webtorrent' {
  import { EventEmitter } from 'node:events'

  export interface ChunkStoreOptions {
    length?: number
    [key: string]: unknown
  }

  export interface Wire extends EventEmitter {
    peerId: string | null
    remoteAddress: string | undefined
    remotePort: number | undefined
    type: string
    downloaded: number
    uploaded: number
    peerPieces: { get(index: number): boolean, set(index: number, value: boolean): void, buffer?: Uint8Array }
    destroyed: boolean
    /** patches/webtorrent: blocks asked for in one request (ezio's peers take several). */
    ezioBlocks?: number
    have(index: number): void
    request(index: number, offset: number, length: number, cb: (err: Error | null, data?: Uint8Array) => void): void
    destroy(): void
  }

  export interface TrackerClient extends EventEmitter {
    update(opts?: Record<string, unknown>): void
    setInterval(ms: number): void
  }

  export interface Torrent extends EventEmitter {
    infoHash: string
    name: string
    length: number
    pieceLength: number
    lastPieceLength: number
    pieces: unknown[]
    /** patches/webtorrent: pieces below it have been checked on the disk; the rest are asked for last. */
    ezioScanned?: number
    /** patches/webtorrent: the scan has checked the pieces below SCANNED; the others may be asked for when FETCHUNSCANNED. */
    ezioScanProgress(scanned: number, fetchUnscanned: boolean): void
    _hashes: string[]
    bitfield: { get(index: number): boolean, set(index: number, value: boolean): void }
    wires: Wire[]
    done: boolean
    ready: boolean
    destroyed: boolean
    downloaded: number
    uploaded: number
    received: number
    numPeers: number
    downloadSpeed: number
    uploadSpeed: number
    discovery: { tracker: TrackerClient | null } | null
    strategy: 'rarest' | 'sequential'
    addPeer(peer: string): boolean
    select(start: number, end: number, priority?: number | boolean): void
    deselect(start: number, end: number): void
    _markVerified(index: number): void
    _checkDone(): boolean
    _update(): void
    destroy(opts?: object, cb?: (err?: Error | null) => void): void
  }

  export interface AddOptions {
    store?: unknown
    storeOpts?: Record<string, unknown>
    storeCacheSlots?: number
    skipVerify?: boolean
    /** ezio's patch: show each peer a few pieces at a time, pieces no peer has yet (BEP 16's idea). */
    superSeed?: boolean
    /** Peers unchoked at a time (webtorrent: 10). */
    uploads?: number
    bitfield?: Uint8Array
    deselect?: boolean
    strategy?: 'rarest' | 'sequential'
    announce?: string[]
    private?: boolean
    path?: string
  }

  export interface ClientOptions {
    peerId?: string
    torrentPort?: number
    dht?: boolean
    lsd?: boolean
    utp?: boolean
    natUpnp?: boolean
    natPmp?: boolean
    webSeeds?: boolean
    tracker?: boolean | Record<string, unknown>
    maxConns?: number
    /** Protocol encryption: 0 off, 1 PE with plaintext fallback (default), 2 PE only. */
    secure?: number
    seedOutgoingConnections?: boolean
    uploadLimit?: number
  }

  export default class WebTorrent extends EventEmitter {
    constructor(opts?: ClientOptions)
    peerId: string
    torrentPort: number
    /** Bytes per second over every torrent. */
    uploadSpeed: number
    /** Consulted before each outgoing connection; an ip-set when a blocklist is given. */
    blocked?: { contains(host: string): boolean }
    add(torrent: Uint8Array | object | string, opts: AddOptions, cb?: (t: Torrent) => void): Torrent
    seed(input: unknown, opts: AddOptions, cb?: (t: Torrent) => void): Torrent
    address(): { address: string, port: number } | null
    destroy(cb?: (err?: Error | null) => void): void
  }
}

declare module 'bencode' {
  const bencode: {
    encode(value: unknown): Uint8Array
    decode(data: Uint8Array, start?: number, end?: number, encoding?: string): unknown
  }
  export default bencode
}

declare module 'parse-torrent' {
  export interface ParsedFile { path: string, name: string, length: number, offset: number }
  export interface ParsedTorrent {
    infoHash: string
    name: string
    length: number
    pieceLength: number
    lastPieceLength: number
    pieces: string[]
    files: ParsedFile[]
    announce: string[]
    private?: boolean
    info: Record<string, unknown>
    infoBuffer: Uint8Array
  }
  export default function parseTorrent(torrent: Uint8Array | string): Promise<ParsedTorrent>
  export function toTorrentFile(parsed: object): Uint8Array
}

declare module '*.html' {
  const text: string
  export default text
}
