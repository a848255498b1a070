import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { diskExtents } from '../torrent/layout.ts'
import type { TorrentMeta } from '../torrent/load.ts'
import { PieceChecker } from '../torrent/piece-check.ts'
import { DiskStore, readExtents } from './disk-store.ts'

/**
 * Whether a disk holds a piece as the torrent has it: what the resume scan,
 * the look before a write and ezio verify ask. For a compressed torrent it is
 * the piece's raw bytes, hashed as they lie on the disk against the
 * mapping's hash of them: nothing is compressed to tell.
 */
export interface TargetCheck {
  /** SCRATCH: a buffer for one piece's read, reused by a caller that checks pieces in turn. */
  holds: (index: number, scratch?: Buffer) => Promise<boolean>
  /** The buffer holds takes: a piece (a frame for a compressed torrent). */
  scratchLength: number
}

/** BLANK: the target reads as zeros throughout (isBlankFile in engine/swarm/clone.ts). */
export function targetCheck (meta: TorrentMeta, disk: FileHandle, blank = false): TargetCheck {
  const map = meta.compressed
  if (!map) return plainCheck(meta, disk, blank)
  return {
    scratchLength: map.frameSize,
    // A blank target holds no piece worth a read: a piece of zeros is a few bytes to fetch.
    holds: async (index, scratch = Buffer.allocUnsafe(map.frameSize)) => {
      if (blank) return false
      const piece = map.pieces[index]!
      const sha = createHash('sha1')
      try {
        for (let done = 0; done < piece.rawLength; done += map.frameSize) {
          const length = Math.min(map.frameSize, piece.rawLength - done)
          sha.update(await readExtents(disk.fd, map.runs, piece.rawStart + done, scratch.subarray(0, length)))
        }
      } catch {
        return false
      }
      return sha.digest('hex') === piece.rawHash
    }
  }
}

function plainCheck (meta: TorrentMeta, disk: FileHandle, blank: boolean): TargetCheck {
  const store = new DiskStore(meta.pieceLength, { disk, extents: diskExtents(meta.layout), length: meta.length })
  const checker = new PieceChecker(meta.pieces)
  return {
    scratchLength: meta.pieceLength,
    holds: async (index, scratch = Buffer.allocUnsafe(store.pieceLength(index))) => {
      // A blank target cannot hold a piece that is not zeros: no need to read it
      // to know. (Zero pieces are still read: were the target not blank after
      // all, the cost is a piece fetched twice, never a piece skipped.)
      if (blank && !checker.isZeroPiece(index, store.pieceLength(index))) return false
      return store.readPiece(index, scratch).then(data => checker.matches(index, data), () => false)
    }
  }
}
