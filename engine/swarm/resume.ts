import type { Torrent } from 'webtorrent'
import type { TargetCheck } from '../storage/target-check.ts'

export interface ScanOptions {
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
export async function scanBeside (torrent: Torrent, check: TargetCheck, opts: ScanOptions): Promise<void> {
  const count = torrent.pieces.length
  const pace = new Pace()
  torrent.ezioScanProgress(0, false)
  torrent.select(0, count - 1, false)
  // One buffer for every piece read: a fresh one per piece left a whole
  // target's worth of garbage behind the scan (with 16 MiB pieces the clone's
  // peak RSS came from it).
  const scratch = Buffer.allocUnsafe(check.scratchLength)
  let told = Date.now()
  for (let i = 0; i < count && !torrent.destroyed && !torrent.done; i++) {
    if (!torrent.bitfield.get(i) && await check.holds(i, scratch)) {
      if (torrent.destroyed) return
      if (!torrent.bitfield.get(i)) {
        torrent._markVerified(i)
        for (const wire of torrent.wires) wire.have(i)
        opts.onReused(pieceLength(torrent, i))
      }
    }
    pace.scanned(pieceLength(torrent, i))
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

function pieceLength (torrent: Torrent, i: number): number {
  return i === torrent.pieces.length - 1 ? torrent.lastPieceLength : torrent.pieceLength
}
