import path from 'node:path'
import { EzioError } from '../errors.ts'
import { openImage } from '../disk/target.ts'
import { hashTorrent, type MakeTorrentOptions } from './hash.ts'

/** A torrent of the whole of IMAGE (a raw disk image or a block device), byte for byte. */
export async function makeImageTorrent (imagePath: string, opts: MakeTorrentOptions): Promise<Uint8Array> {
  const image = await openImage(imagePath)
  try {
    if (image.info.size === 0) throw new EzioError('badImage', `image ${imagePath} is empty: give a disk image or a block device with data`)
    return await hashTorrent({
      source: image.handle,
      sourceName: `image ${imagePath}`,
      name: opts.name ?? path.basename(imagePath),
      runs: [{ path: [], sourceOffset: 0, length: image.info.size }],
      trackers: opts.trackers,
      pieceSize: opts.pieceSize,
      progress: opts.progress,
      compress: opts.compress
    })
  } finally {
    await image.handle.close()
  }
}
