import type { Torrent } from 'webtorrent'
import type { DiskStore } from '../storage/disk-store.ts'
import { PieceChecker } from '../torrent/piece-check.ts'

/**
 * Walks the target piece by piece, ahead of the download: a piece the target
 * already holds is marked done and never fetched; the others are handed to
 * the swarm window by window. So a resumed clone fetches only what is
 * missing, and a fresh one starts fetching after the first window is read,
 * not after the whole disk is.
 */
export async function scanAhead (torrent: Torrent, store: DiskStore, checker: PieceChecker, onReused: (bytes: number) => void, opts: { blank?: boolean } = {}): Promise<void> {
  const count = torrent.pieces.length
  // Each window becomes one webtorrent selection, and pieces are picked
  // rarest-first within a selection: few, large windows keep the room's
  // machines on different pieces, so that they have something to trade.
  const maxWindow = Math.max(16, Math.ceil(count / 8))
  let window = 4
  // One buffer for every piece read: a fresh one per piece left a whole
  // target's worth of garbage behind the scan (with 16 MiB pieces the clone's
  // peak RSS came from it).
  const scratch = Buffer.allocUnsafe(torrent.pieceLength)
  for (let start = 0; start < count && !torrent.destroyed; start += window, window = Math.min(window * 2, maxWindow)) {
    const end = Math.min(start + window, count) - 1
    for (let i = start; i <= end && !torrent.destroyed; i++) {
      const length = store.pieceLength(i)
      // A blank target cannot hold a piece that is not zeros: no need to read
      // it to know. (Zero pieces are still read: were the target not blank
      // after all, the cost is a piece fetched twice, never a piece skipped.)
      const held = opts.blank && !checker.isZeroPiece(i, length)
        ? false
        : await store.readPiece(i, scratch).then(data => checker.matches(i, data), () => false)
      if (torrent.destroyed) break
      if (held && !torrent.bitfield.get(i)) {
        torrent._markVerified(i)
        for (const wire of torrent.wires) wire.have(i)
        onReused(length)
      }
    }
    if (torrent.destroyed) break
    torrent.select(start, end, false)
    torrent._checkDone()
  }
}
