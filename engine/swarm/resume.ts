import type { Torrent } from 'webtorrent'
import type { DiskStore } from '../storage/disk-store.ts'
import type { PieceChecker } from '../torrent/piece-check.ts'

export interface ScanOptions {
  /** The target is known to read as zeros throughout (see isBlankFile). */
  blank?: boolean
  /** Told of each piece found on the target, with its length. */
  onReused: (bytes: number) => void
}

/**
 * Walks the target piece by piece beside the download, never ahead of it:
 * every piece is wanted from the start, and the piece picker asks for those
 * the scan has passed (and found missing) first, for the others only when a
 * peer has nothing else to give and the network has shown itself faster
 * than the scan (patches/webtorrent: piece-picker.js). A piece the target
 * already holds is marked done and not fetched; a piece already fetched is
 * skipped. So on a slow disk, or one that holds the previous image, the
 * network still runs at its own pace, and a re-image fetches only what
 * differs wherever the disk reads faster than the network.
 */
export async function scanBeside (torrent: Torrent, store: DiskStore, checker: PieceChecker, opts: ScanOptions): Promise<void> {
  const count = torrent.pieces.length
  const pace = new Pace()
  torrent.ezioScanProgress(0, false)
  torrent.select(0, count - 1, false)
  // One buffer for every piece read: a fresh one per piece left a whole
  // target's worth of garbage behind the scan (with 16 MiB pieces the clone's
  // peak RSS came from it).
  const scratch = Buffer.allocUnsafe(torrent.pieceLength)
  let told = Date.now()
  for (let i = 0; i < count && !torrent.destroyed && !torrent.done; i++) {
    if (!torrent.bitfield.get(i) && await holds(store, checker, i, scratch, opts.blank)) {
      if (torrent.destroyed) return
      if (!torrent.bitfield.get(i)) {
        torrent._markVerified(i)
        for (const wire of torrent.wires) wire.have(i)
        opts.onReused(store.pieceLength(i))
      }
    }
    pace.scanned(store.pieceLength(i))
    // The picker is told in batches: each telling sets every idle peer
    // looking through the pieces again.
    if (Date.now() - told >= 100) {
      told = Date.now()
      torrent.ezioScanProgress(i + 1, pace.networkFaster(torrent.downloadSpeed))
    }
  }
  if (torrent.destroyed) return
  torrent.ezioScanProgress(count, true)
  torrent._checkDone()
}

/** Whether the network fetches faster than the scan checks. */
class Pace {
  private readonly started = Date.now()
  private bytes = 0
  private peakDown = 0

  scanned (bytes: number): void {
    this.bytes += bytes
  }

  networkFaster (downRate: number): boolean {
    this.peakDown = Math.max(this.peakDown, downRate)
    const seconds = (Date.now() - this.started) / 1000
    // A second for the scan to show its pace before it is judged.
    return seconds >= 1 && this.peakDown > this.bytes / seconds
  }
}

/** Whether the target holds piece I as the torrent has it. */
export async function holds (store: DiskStore, checker: PieceChecker, i: number, scratch: Buffer, blank = false): Promise<boolean> {
  const length = store.pieceLength(i)
  // A blank target cannot hold a piece that is not zeros: no need to read it
  // to know. (Zero pieces are still read: were the target not blank after
  // all, the cost is a piece fetched twice, never a piece skipped.)
  if (blank && !checker.isZeroPiece(i, length)) return false
  return store.readPiece(i, scratch).then(data => checker.matches(i, data), () => false)
}
