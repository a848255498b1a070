import { EzioError } from '../engine/errors.ts'
import { choosePieceSize } from '../engine/torrent/piece-size.ts'
import { makeUsedBlocksTorrent } from '../engine/torrent/used-blocks-torrent.ts'
import type { UsedBlocksPlan } from '../engine/used-blocks/plan.ts'
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
  let upload: CaptureUpload | undefined
  let sent = 0
  let usedBytes = 0
  try {
    const { file } = await makeUsedBlocksTorrent(opts.source, {
      name: opts.name,
      trackers: [],
      onPlan: opts.onPlan,
      inUse: user => new EzioError('sourceInUse', `${opts.source} is in use (${user}): a mounted filesystem changes while it is read; shut the reference machine down cleanly and capture it from the appliance or a live system`),
      // The server says yes before a used block is read; the torrent's piece length is the one it was told.
      checkPlan: async plan => {
        refuseUnclean(opts.source, plan)
        usedBytes = plan.payload
        const started201 = await startCapture(opts.server, opts.token, {
          name: opts.name, replace: opts.replace, usedBytes, diskSize: plan.record.diskSize, pieceLength: choosePieceSize(usedBytes)
        })
        upload = new CaptureUpload(`${opts.server}${started201.upload}?token=${encodeURIComponent(opts.token)}`)
      },
      compress: {
        level: opts.level,
        onPiece: async (bytes, rawDone, rawTotal) => {
          await upload!.piece(bytes, rawDone)
          sent += bytes.length
          opts.onProgress?.(rawDone, rawTotal, sent)
        }
      }
    })
    const stored = await upload!.finish(file, usedBytes)
    return { ...stored, usedBytes, seconds: (Date.now() - started) / 1000 }
  } catch (err) {
    upload?.abort()
    throw err
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
