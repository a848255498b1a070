import { inUseBy } from '../engine/disk/mounts.ts'
import { openImage } from '../engine/disk/target.ts'
import { EzioError } from '../engine/errors.ts'
import { hashTorrent } from '../engine/torrent/hash.ts'
import { encodeLayoutRecord, LAYOUT_KEY } from '../engine/torrent/layout-record.ts'
import { choosePieceSize } from '../engine/torrent/piece-size.ts'
import { usedBlocksSummary } from '../engine/torrent/used-blocks-torrent.ts'
import { planUsedBlocks, type UsedBlocksPlan } from '../engine/used-blocks/plan.ts'
import { CaptureUpload, startCapture, type CaptureStored } from './capture-upload.ts'

export interface CaptureOptions {
  /** The reference disk, or an image of it. */
  source: string
  /** http://HOST:PORT of ezio serve. */
  server: string
  name: string
  token: string
  replace: boolean
  level?: number
  /** What travels, before it is read (ezio create --used-blocks prints the same). */
  onPlan?: (summary: string) => void
  onProgress?: (rawDone: number, rawTotal: number, sent: number) => void
}

export interface CaptureResult extends CaptureStored {
  usedBytes: number
  seconds: number
}

/**
 * The reference disk into the server's image store, in one pass: its used
 * blocks (partclone's map, as ezio create --used-blocks) read once,
 * compressed into pieces (--compress) and sent as they are made; the server
 * hashes them as they arrive and lists the image once the torrent made of
 * them matches. A disk whose filesystems could change under the reading, or
 * are not clean, is refused before the server is asked.
 */
export async function runCapture (opts: CaptureOptions): Promise<CaptureResult> {
  const started = Date.now()
  const image = await openImage(opts.source)
  try {
    if (image.info.size === 0) throw new EzioError('badImage', `${opts.source} is empty: give the reference disk or an image of it`)
    const user = await inUseBy(image.info)
    if (user) throw new EzioError('sourceInUse', `${opts.source} is in use (${user}): a mounted filesystem changes while it is read; shut the reference machine down cleanly and capture it from the appliance or a live system`)
    const plan = await planUsedBlocks(opts.source, image.handle, image.info, opts.name)
    opts.onPlan?.(usedBlocksSummary(plan))
    refuseUnclean(opts.source, plan)
    if (plan.payload === 0) throw new EzioError('badImage', `${opts.source} holds no used block at all: there is nothing to capture`)
    const pieceLength = choosePieceSize(plan.payload)
    const started201 = await startCapture(opts.server, opts.token, {
      name: opts.name, replace: opts.replace, usedBytes: plan.payload, diskSize: image.info.size, pieceLength
    })
    const upload = new CaptureUpload(`${opts.server}${started201.upload}?token=${encodeURIComponent(opts.token)}`)
    let sent = 0
    try {
      const torrent = await hashTorrent({
        source: image.handle,
        sourceName: opts.source,
        name: opts.name,
        runs: plan.runs,
        trackers: [],
        pieceSize: pieceLength,
        extraInfo: { [LAYOUT_KEY]: encodeLayoutRecord(plan.record) },
        compress: {
          level: opts.level,
          onPiece: async (bytes, rawDone, rawTotal) => {
            await upload.piece(bytes, rawDone)
            sent += bytes.length
            opts.onProgress?.(rawDone, rawTotal, sent)
          }
        }
      })
      const stored = await upload.finish(torrent, plan.payload)
      return { ...stored, usedBytes: plan.payload, seconds: (Date.now() - started) / 1000 }
    } catch (err) {
      upload.abort()
      throw err
    }
  } finally {
    await image.handle.close()
  }
}

// ezio create sends such a partition whole; a capture is refused instead:
// a filesystem not cleanly unmounted (or with errors) would be deployed to
// the whole room as it is.
function refuseUnclean (source: string, plan: UsedBlocksPlan): void {
  const bad = plan.partitions.find(p => p.unreadable)
  if (!bad) return
  const where = plan.record.table === 'none' ? source : `partition ${bad.number} of ${source}`
  throw new EzioError('sourceInUse', `the ${bad.fs} filesystem on ${where} cannot be mapped (partclone: ${bad.unreadable}): shut the reference machine down cleanly (or fsck it), then capture again`)
}
