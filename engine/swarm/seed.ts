import type { FileHandle } from 'node:fs/promises'
import type WebTorrent from 'webtorrent'
import type { Torrent } from 'webtorrent'
import { EzioError } from '../errors.ts'
import { DiskStore } from '../storage/disk-store.ts'
import type { TorrentMeta } from '../torrent/load.ts'
import { createSwarmClient, listeningPort } from './client.ts'
import { countTraffic, type Traffic } from './traffic.ts'

export interface Seeder {
  client: WebTorrent
  torrent: Torrent
  traffic: Traffic
  port: number
  stop: () => Promise<void>
}

/**
 * Seeds IMAGE, which must match META: after one hash pass (or none with
 * skipVerify) a mismatch is an error, never a seeder that serves half an image.
 */
export function seedImage (opts: { meta: TorrentMeta, image: FileHandle, port?: number, skipVerify?: boolean, peers?: string[], uploadLimit?: number, superSeed?: boolean }): Promise<Seeder> {
  const { meta } = opts
  const client = createSwarmClient({ port: opts.port, seeder: true, uploadLimit: opts.uploadLimit })
  const torrent = client.add(meta.file, {
    store: DiskStore,
    storeOpts: { disk: opts.image, extents: meta.layout.extents, length: meta.length },
    storeCacheSlots: 0,
    skipVerify: !!opts.skipVerify,
    superSeed: !!opts.superSeed,
    private: true
  })
  const traffic = countTraffic(torrent, new Set())
  return new Promise<Seeder>((resolve, reject) => {
    const fail = (err: Error): void => {
      client.destroy()
      const e = err as NodeJS.ErrnoException
      reject(e.code === 'EADDRINUSE'
        ? new EzioError('network', `BitTorrent port ${opts.port} is in use: pick another with --bt-port`)
        : err instanceof EzioError ? err : new EzioError('internal', `seeding failed: ${err.message}`))
    }
    client.once('error', fail)
    torrent.once('error', fail)
    torrent.on('infoHash', () => { for (const p of opts.peers ?? []) torrent.addPeer(p) })
    torrent.once('ready', () => {
      const missing = meta.pieces.length - countVerified(torrent, meta.pieces.length)
      if (missing > 0) {
        return fail(new EzioError('badImage', `the image does not match the torrent (${missing} of ${meta.pieces.length} pieces differ): seed the image the torrent was made from`))
      }
      listeningPort(client).then(port => resolve({
        client,
        torrent,
        traffic,
        port,
        stop: () => new Promise<void>(res => client.destroy(() => res()))
      }), fail)
    })
  })
}

function countVerified (torrent: Torrent, count: number): number {
  let n = 0
  for (let i = 0; i < count; i++) if (torrent.bitfield.get(i)) n++
  return n
}
