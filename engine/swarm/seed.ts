import type { FileHandle } from 'node:fs/promises'
import type WebTorrent from 'webtorrent'
import type { Torrent } from 'webtorrent'
import { EzioError } from '../errors.ts'
import { pieceStore, type StoreChoice } from '../storage/piece-store.ts'
import type { TorrentMeta } from '../torrent/load.ts'
import { createSwarmClient, listeningPort, UPLOAD_SLOTS } from './client.ts'
import { countTraffic, type Traffic } from './traffic.ts'

export interface SeedClientOptions {
  port?: number
  /** Bytes per second for all the torrents together. */
  uploadLimit?: number
  /** Each piece shown to a few peers at a time (super-seed.js in patches/). */
  superSeed?: boolean
}

export interface SeededTorrent {
  torrent: Torrent
  traffic: Traffic
}

/**
 * One BitTorrent client on one port that seeds any number of images, each
 * of which must match its torrent: after one hash pass (or none with
 * skipVerify) a mismatch is an error, never a seeder that serves half an image.
 */
export class SeedClient {
  readonly seeded: SeededTorrent[] = []

  private constructor (readonly client: WebTorrent, readonly port: number, private readonly superSeed: boolean) {}

  static async start (opts: SeedClientOptions): Promise<SeedClient> {
    const client = createSwarmClient({ port: opts.port, seeder: true, uploadLimit: opts.uploadLimit })
    const failed = new Promise<never>((_resolve, reject) => client.once('error', (err: Error) => reject(seedError(err, opts.port))))
    try {
      const port = await Promise.race([listeningPort(client), failed])
      return new SeedClient(client, port, !!opts.superSeed)
    } catch (err) {
      client.destroy()
      throw err
    }
  }

  /**
   * IMAGE: the disk or image META was made from; with PAYLOAD, a compressed
   * torrent's payload as made (ezio serve's cache of it). Or, for a directory
   * of the torrent's own files (Clonezilla's slice files, DIR/sda1/<hex>),
   * the directory: webtorrent's own file storage reads them as any client would.
   */
  add (meta: TorrentMeta, image: FileHandle | { dir: string }, opts: { skipVerify?: boolean, peers?: string[], payload?: boolean } = {}): Promise<SeededTorrent> {
    const storage = 'dir' in image ? { path: image.dir } : storeOf(pieceStore(meta, image, { payload: opts.payload }))
    const torrent = this.client.add(meta.file, {
      ...storage,
      storeCacheSlots: 0,
      skipVerify: !!opts.skipVerify,
      superSeed: this.superSeed,
      uploads: UPLOAD_SLOTS,
      private: true
    })
    const seeded = { torrent, traffic: countTraffic(torrent, new Set()) }
    return new Promise<SeededTorrent>((resolve, reject) => {
      const fail = (err: Error): void => {
        torrent.destroy()
        reject(err instanceof EzioError ? err : seedError(err, this.port))
      }
      torrent.once('error', fail)
      torrent.on('infoHash', () => { for (const p of opts.peers ?? []) torrent.addPeer(p) })
      torrent.once('ready', () => {
        const missing = meta.pieces.length - countVerified(torrent, meta.pieces.length)
        if (missing > 0) {
          return fail(new EzioError('badImage', `the image does not match the torrent (${missing} of ${meta.pieces.length} pieces differ): seed the image the torrent was made from`))
        }
        this.seeded.push(seeded)
        resolve(seeded)
      })
    })
  }

  /** Uploaded in all, the upload rate and the peers, over every image. */
  stats (): { uploaded: number, upRate: number, peers: number } {
    return {
      uploaded: this.seeded.reduce((sum, s) => sum + s.traffic.uploaded, 0),
      upRate: this.client.uploadSpeed,
      peers: this.seeded.reduce((sum, s) => sum + s.torrent.numPeers, 0)
    }
  }

  stop (): Promise<void> {
    return new Promise<void>(resolve => this.client.destroy(() => resolve()))
  }
}

// A copy of the options: the torrent keeps the object it is given.
function storeOf (choice: StoreChoice) {
  return { store: choice.store, storeOpts: { ...choice.storeOpts } }
}

function seedError (err: Error, port: number | undefined): EzioError {
  const e = err as NodeJS.ErrnoException
  return e.code === 'EADDRINUSE'
    ? new EzioError('network', `BitTorrent port ${port} is in use: pick another with --bt-port`)
    : new EzioError('internal', `seeding failed: ${err.message}`)
}

function countVerified (torrent: Torrent, count: number): number {
  let n = 0
  for (let i = 0; i < count; i++) if (torrent.bitfield.get(i)) n++
  return n
}
