import type { FileHandle } from 'node:fs/promises'
import type { Torrent } from 'webtorrent'
import { EzioError } from '../errors.ts'
import type { CloneStatus, MachineState } from '../progress/status.ts'
import { writeTargetTable } from '../disk/target-table.ts'
import { DiskStore, Flusher, type DiskStoreOptions } from '../storage/disk-store.ts'
import type { TorrentMeta } from '../torrent/load.ts'
import { PieceChecker } from '../torrent/piece-check.ts'
import { banBadPeers } from './bad-peers.ts'
import { createSwarmClient } from './client.ts'
import { scanAhead } from './resume.ts'
import { seedUntilDone, type SeedEnd, type SeedPolicy } from './seeding.ts'
import { countTraffic } from './traffic.ts'

export interface CloneOptions {
  meta: TorrentMeta
  disk: FileHandle
  id: string
  /** host:port of peers to connect to besides the tracker's (the seeder). */
  peers: string[]
  port?: number
  seed: SeedPolicy
  onStatus?: (status: CloneStatus) => void
  statusIntervalMs?: number
}

export interface CloneResult {
  status: CloneStatus
  seedEnd: SeedEnd
  badPieces: number
  /** Addresses banned for sending data that failed verification. */
  bannedPeers: string[]
  /** From start to the whole image verified and flushed on the target. */
  cloneSeconds: number
  /** Cloning and seeding. */
  seconds: number
}

/**
 * Clones META onto DISK from the swarm, then seeds by the policy. Resolves
 * only once every piece is verified on the disk and flushed; anything else
 * rejects with an EzioError.
 */
export function cloneFromSwarm (opts: CloneOptions): Promise<CloneResult> {
  const { meta } = opts
  const started = Date.now()
  const client = createSwarmClient({ port: opts.port })
  const flusher = new Flusher(opts.disk)
  const storeOpts: DiskStoreOptions = { disk: opts.disk, extents: meta.layout.extents, length: meta.length, flusher }
  const torrent: Torrent = client.add(meta.file, {
    store: DiskStore,
    storeOpts: { ...storeOpts },
    // The page cache already holds recent pieces; a cache of 20 x 16 MiB
    // pieces would break the memory target.
    storeCacheSlots: 0,
    // An empty bitfield skips webtorrent's read of the whole target before
    // the first request: scanAhead checks the target alongside the download.
    bitfield: new Uint8Array(Math.ceil(meta.pieces.length / 8)),
    deselect: true,
    // webtorrent's default is sequential: machines that start together would
    // all fetch the same pieces from the seeder and have nothing to trade.
    // (patches/webtorrent+*.patch keeps rarest-first's search within a
    // selection: unpatched it scans every piece of the torrent per request.)
    strategy: 'rarest',
    // No DHT and no PEX, even for torrents that are not marked private.
    private: true
  })
  const traffic = countTraffic(torrent, new Set(opts.peers))
  let state: MachineState = 'cloning'
  let bytesDone = 0
  let reused = 0
  let badPieces = 0
  torrent.on('verified', (index: number) => {
    bytesDone += index === meta.pieces.length - 1 ? meta.lastPieceLength : meta.pieceLength
  })
  torrent.on('warning', (err: Error) => {
    if (/failed verification/.test(err.message)) badPieces++
  })
  const bannedPeers: string[] = []
  const pieceReader = new DiskStore(meta.pieceLength, storeOpts)
  banBadPeers(client, torrent, index => readPiece(pieceReader, index), address => bannedPeers.push(address))

  const snapshot = (): CloneStatus => {
    const downRate = state === 'cloning' ? torrent.downloadSpeed : 0
    const left = meta.length - bytesDone
    return {
      id: opts.id,
      state,
      bytesDone,
      total: meta.length,
      reused,
      downRate,
      upRate: torrent.uploadSpeed,
      fromSeeder: traffic.fromSeeder,
      fromPeers: traffic.fromPeers,
      uploaded: traffic.uploaded,
      peers: torrent.numPeers,
      eta: left === 0 ? 0 : downRate > 0 ? Math.round(left / downRate) : null,
      error: null
    }
  }
  const ticker = setInterval(() => {
    // Rarest-first only pays where there is someone to trade with; alone with
    // the seeder, webtorrent's sequential picking costs a fraction of the CPU
    // (1 GiB over loopback: about twice the throughput).
    torrent.strategy = torrent.wires.length > 1 ? 'rarest' : 'sequential'
    opts.onStatus?.(snapshot())
  }, opts.statusIntervalMs ?? 1000)

  return new Promise<CloneResult>((resolve, reject) => {
    let finished = false
    let clonedAt: number | undefined
    let keepTimer: NodeJS.Timeout | undefined
    const finish = (err: unknown, seedEnd?: SeedEnd): void => {
      if (finished) return
      finished = true
      clearInterval(ticker)
      clearInterval(keepTimer)
      client.destroy(() => {
        if (err) return reject(toEzioError(err))
        const seconds = (Date.now() - started) / 1000
        resolve({ status: snapshot(), seedEnd: seedEnd ?? 'immediate', badPieces, bannedPeers, cloneSeconds: clonedAt ? (clonedAt - started) / 1000 : seconds, seconds })
      })
    }
    client.on('error', finish)
    torrent.on('error', finish)
    torrent.on('infoHash', () => {
      // webtorrent gives up on a peer after three reconnects (21 s); the
      // seeder named by the config must survive a server restart, so it is
      // added again whenever it is gone (a peer still known is ignored).
      const keepPeers = (): void => { if (!torrent.destroyed) for (const peer of opts.peers) torrent.addPeer(peer) }
      keepPeers()
      keepTimer = setInterval(keepPeers, 5000)
    })
    torrent.on('ready', () => {
      const scanner = new DiskStore(meta.pieceLength, storeOpts)
      isBlankFile(opts.disk)
        .then(blank => scanAhead(torrent, scanner, new PieceChecker(meta.pieces), bytes => { reused += bytes }, { blank }))
        .catch(finish)
      // Peers that announced at the same moment as this machine are missed
      // by its first announce; a few early re-announces find them in seconds.
      for (const s of [2, 5, 10]) setTimeout(() => { if (!torrent.done && !torrent.destroyed) torrent.discovery?.tracker?.update() }, s * 1000).unref()
    })
    torrent.on('done', () => {
      flusher.sync()
        // A whole disk's GPT is rebuilt for this target's size once every piece is on it.
        .then(() => writeTargetTable(meta.record, opts.disk))
        .then(() => {
          clonedAt = Date.now()
          state = 'seeding'
          opts.onStatus?.(snapshot())
          return seedUntilDone(torrent, traffic, meta.length, opts.seed)
        })
        .then(end => {
          state = 'done'
          finish(null, end)
        }, err => finish(new EzioError('writeFailed', `flushing the target failed (${(err as Error).message}): the clone is not complete; check the disk and clone again`)))
    })
  })
}

function readPiece (store: DiskStore, index: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => store.get(index, null, (err, buf) => err || !buf ? reject(err ?? new Error(`piece ${index} unreadable`)) : resolve(buf)))
}

/**
 * A regular file with no block allocated (a fresh sparse file, as a VM disk
 * starts) reads as zeros throughout. Checked once, before anything is
 * written; a block device is never taken for blank. Only a hint (see scanAhead).
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
