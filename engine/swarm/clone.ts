import type { FileHandle } from 'node:fs/promises'
import type WebTorrent from 'webtorrent'
import type { Torrent, Wire } from 'webtorrent'
import { dropCachedPages } from '../disk/drop-cache.ts'
import { EzioError } from '../errors.ts'
import { Flusher } from '../storage/disk-store.ts'
import { pieceStore, type PieceStore, type StoreChoice } from '../storage/piece-store.ts'
import { targetCheck, type TargetCheck } from '../storage/target-check.ts'
import type { TorrentMeta } from '../torrent/load.ts'
import { banBadPeers } from './bad-peers.ts'
import { createSwarmClient, tuneWire, UPLOAD_SLOTS } from './client.ts'
import { scanBeside } from './resume.ts'
import { seedUntilDone, type SeedEnd, type SeedPolicy } from './seeding.ts'
import { countTraffic, isSeeder, type Traffic } from './traffic.ts'

export interface SwarmCloneOptions {
  meta: TorrentMeta
  disk: FileHandle
  /** host:port of peers to connect to besides the tracker's (the seeder). */
  peers: string[]
  port?: number
  /** Called once a second while the swarm runs. */
  onTick?: () => void
}

/** What the swarm has done so far, in bytes and bytes per second. */
export interface SwarmProgress {
  bytesDone: number
  total: number
  reused: number
  /** Pieces fetched that the target held already: the scan had not reached them yet. */
  refetched: number
  downRate: number
  upRate: number
  fromSeeder: number
  fromPeers: number
  uploaded: number
  peers: number
}

/**
 * Fetches META's pieces from the swarm onto DISK, verified, through the chunk
 * store, and seeds them after. The swarm knows pieces; where their bytes go
 * on the disk is the chunk store's business, and what else the disk needs
 * (its partition table) is the caller's.
 */
export class SwarmClone {
  /** Resolves once every piece is verified on the disk and flushed. */
  readonly downloaded: Promise<void>
  readonly bannedPeers: string[] = []
  badPieces = 0
  private readonly client: WebTorrent
  private readonly torrent: Torrent
  private readonly traffic: Traffic
  private readonly failure: Promise<never>
  private fail: (err: unknown) => void = () => {}
  private bytesDone = 0
  private reused = 0
  private refetched = 0
  /** Whether the target read as zeros when the clone began; undefined until known. */
  private blank: boolean | undefined
  /** Whether the target holds a piece: made once the blank test is done. */
  private check: TargetCheck | undefined
  private readonly timers: NodeJS.Timeout[] = []
  private readonly seederAddrs: Set<string>

  constructor (private readonly opts: SwarmCloneOptions) {
    const { meta } = opts
    this.seederAddrs = new Set(opts.peers)
    this.failure = new Promise<never>((_resolve, reject) => { this.fail = err => reject(toEzioError(err)) })
    // Rejections are taken by whichever step is waiting; none may go unhandled.
    this.failure.catch(() => {})
    this.client = createSwarmClient({ port: opts.port })
    const flusher = new Flusher(opts.disk)
    const choice = pieceStore(meta, opts.disk, { flusher, beforeWrite: index => this.lookBeforeWrite(index) })
    this.torrent = addTorrent(this.client, meta, choice)
    this.traffic = countTraffic(this.torrent, this.seederAddrs)
    this.client.on('error', this.fail)
    this.torrent.on('error', this.fail)
    this.watchPieces(choice.open())
    this.torrent.on('wire', tuneWire)
    this.torrent.on('infoHash', () => this.keepPeers())
    this.torrent.on('ready', () => this.startScan())
    const done = new Promise<void>(resolve => this.torrent.on('done', () => resolve()))
    this.downloaded = this.whileRunning(done.then(() => flusher.sync().catch((err: unknown) => {
      throw new EzioError('writeFailed', `flushing the target failed (${(err as Error).message}): the clone is not complete; check the disk and clone again`)
    })))
    this.timers.push(setInterval(() => this.tick(), 1000))
  }

  progress (): SwarmProgress {
    const { meta } = this.opts
    return {
      bytesDone: this.bytesDone,
      total: meta.length,
      reused: this.reused,
      refetched: this.refetched,
      downRate: this.torrent.downloadSpeed,
      upRate: this.torrent.uploadSpeed,
      fromSeeder: this.traffic.fromSeeder,
      fromPeers: this.traffic.fromPeers,
      uploaded: this.traffic.uploaded,
      peers: this.torrent.numPeers
    }
  }

  /** Seeds what is on the disk until POLICY says the room no longer needs it. */
  seed (policy: SeedPolicy): Promise<SeedEnd> {
    return this.whileRunning(seedUntilDone(this.torrent, this.traffic, this.opts.meta.length, policy))
  }

  close (): Promise<void> {
    for (const t of this.timers) clearInterval(t)
    return new Promise(resolve => this.client.destroy(() => resolve()))
  }

  /** STEP, unless the swarm fails first. */
  private whileRunning<T> (step: Promise<T>): Promise<T> {
    return Promise.race([step, this.failure])
  }

  private tick (): void {
    this.opts.onTick?.()
  }

  private watchPieces (reader: PieceStore): void {
    const { meta } = this.opts
    // A piece can be verified twice (two peers' copies in the endgame): counted once, progress never passes 100 %.
    const counted = new Uint8Array(meta.pieces.length)
    this.torrent.on('verified', (index: number) => {
      if (counted[index] === 1) return
      counted[index] = 1
      this.bytesDone += index === meta.pieces.length - 1 ? meta.lastPieceLength : meta.pieceLength
    })
    this.torrent.on('warning', (err: Error) => {
      if (/failed verification/.test(err.message)) this.badPieces++
    })
    banBadPeers(this.client, this.torrent, index => reader.readPiece(index), (address, wire) => this.banned(address, wire))
  }

  // Machines pass on only pieces that verified: corrupt pieces from the
  // seeder mean its image is not the one its torrent was made of, and with
  // every seeder banned the room would stall. Stop, saying so.
  private banned (address: string, wire: Wire): void {
    this.bannedPeers.push(address)
    const seederHosts = [...this.seederAddrs].map(p => p.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''))
    if (isSeeder(wire, this.seederAddrs) && seederHosts.every(h => this.bannedPeers.includes(h))) {
      this.fail(new EzioError('staleImage', `pieces from the seeder at ${address} fail their hash: the server's image changed since its torrent was made; nothing was reported done (restart ezio serve, which hashes the image again, then clone again)`))
    }
  }

  // webtorrent gives up on a peer after three reconnects (21 s); the seeder
  // named by the config must survive a server restart, so it is added again
  // whenever it is gone (a peer still known is ignored).
  private keepPeers (): void {
    const add = (): void => { if (!this.torrent.destroyed) for (const peer of this.opts.peers) this.torrent.addPeer(peer) }
    add()
    this.timers.push(setInterval(add, 5000))
  }

  private startScan (): void {
    isBlankFile(this.opts.disk)
      .then(async blank => {
        await dropCachedPages(this.opts.disk)
        this.blank = blank
        this.check = targetCheck(this.opts.meta, this.opts.disk, blank)
        return scanBeside(this.torrent, this.check, { onReused: bytes => { this.reused += bytes } })
      })
      .catch(this.fail)
    // Peers that announced at the same moment as this machine are missed
    // by its first announce; a few early re-announces find them in seconds.
    for (const s of [2, 5, 10]) {
      setTimeout(() => { if (!this.torrent.done && !this.torrent.destroyed) this.torrent.discovery?.tracker?.update() }, s * 1000).unref()
    }
  }

  // A piece fetched before the scan reached it may have been on the target
  // all along; one look at what it is about to replace tells (the summary
  // counts them). Only such pieces are read, and never on a blank target.
  private async lookBeforeWrite (index: number): Promise<void> {
    const scanned = this.torrent.ezioScanned
    if (this.blank !== false || !this.check || scanned === undefined || index < scanned) return
    if (await this.check.holds(index)) this.refetched++
  }
}

function addTorrent (client: WebTorrent, meta: TorrentMeta, choice: StoreChoice): Torrent {
  return client.add(meta.file, {
    store: choice.store,
    storeOpts: { ...choice.storeOpts },
    // The page cache already holds recent pieces; a cache of 20 x 16 MiB
    // pieces would break the memory target.
    storeCacheSlots: 0,
    // An empty bitfield skips webtorrent's read of the whole target before
    // the first request: scanBeside checks the target alongside the download.
    bitfield: new Uint8Array(Math.ceil(meta.pieces.length / 8)),
    deselect: true,
    // webtorrent's default is sequential: machines that start together would
    // all fetch the same pieces from the seeder and have nothing to trade.
    // 'rarest' is ezio's piece picker (patches/webtorrent: piece-picker.js),
    // which also keeps the disk scan's order.
    strategy: 'rarest',
    uploads: UPLOAD_SLOTS,
    // No DHT and no PEX, even for torrents that are not marked private.
    private: true
  })
}

/**
 * A regular file with no block allocated (a fresh sparse file, as a VM disk
 * starts) reads as zeros throughout. Checked once, before anything is
 * written; a block device is never taken for blank. Only a hint (see holds in resume.ts).
 */
async function isBlankFile (disk: FileHandle): Promise<boolean> {
  const st = await disk.stat()
  return st.isFile() && st.size > 0 && st.blocks === 0
}

function toEzioError (err: unknown): EzioError {
  if (err instanceof EzioError) return err
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'EADDRINUSE') return new EzioError('network', `the BitTorrent port is in use (${e.message}): pick another with --bt-port`)
  return new EzioError('internal', `the swarm failed: ${e?.message ?? String(err)}`)
}
