import type { FileHandle } from 'node:fs/promises'
import { EzioError } from '../errors.ts'
import { bar, mb, percent } from '../format.ts'
import { createCompressedTorrent, type PieceSink } from './compressed-torrent.ts'
import { createTorrent, type SourceRun } from './create.ts'
import { badPieceSize, choosePieceSize, tooManyPieces } from './piece-size.ts'

/** What `ezio create` (and `ezio serve`, which makes its torrent the same way) may choose. */
export interface MakeTorrentOptions {
  trackers: string[]
  pieceSize?: number
  name?: string
  /** A progress bar on stderr when it is a terminal. */
  progress?: boolean
  /** Self-contained zstd pieces (docs/compressed-pieces.md); PAYLOAD receives the compressed bytes. */
  compress?: { level?: number, payload?: FileHandle, onPiece?: PieceSink }
}

export interface HashOptions {
  source: FileHandle
  /** The image or device, for messages. */
  sourceName: string
  name: string
  runs: SourceRun[]
  trackers: string[]
  pieceSize?: number
  extraInfo?: Record<string, unknown>
  progress?: boolean
  compress?: MakeTorrentOptions['compress']
}

/**
 * ezio create's hashing, for raw and used-blocks torrents alike: the piece
 * size (given, or chosen from the payload), a progress bar on a terminal,
 * and a read failure reported as an unreadable image.
 */
export async function hashTorrent (opts: HashOptions): Promise<Uint8Array> {
  const payload = opts.runs.reduce((sum, r) => sum + r.length, 0)
  // Refused before a byte is hashed: what a machine would refuse to load.
  const pieceLength = opts.pieceSize ?? choosePieceSize(payload)
  const bad = badPieceSize(pieceLength) ?? tooManyPieces(payload, pieceLength)
  if (bad) throw new EzioError('usage', `ezio create: --piece-size: ${bad}: pick a size that ezio clone loads`)
  const tty = opts.progress && process.stderr.isTTY
  let lastDraw = 0
  const create = {
    source: opts.source,
    name: opts.name,
    runs: opts.runs,
    pieceLength,
    announce: opts.trackers,
    extraInfo: opts.extraInfo,
    onProgress: (done: number, total: number) => {
      if (!tty || (Date.now() - lastDraw < 200 && done < total)) return
      lastDraw = Date.now()
      process.stderr.write(`\r${opts.compress ? 'compressing' : 'hashing'} ${bar(done, total)} ${percent(done, total)} ${mb(done)}/${mb(total)} MB`)
    }
  }
  const made = opts.compress ? createCompressedTorrent({ ...create, ...opts.compress }) : createTorrent(create)
  const file = await made.catch((err: unknown) => {
    throw err instanceof EzioError ? err : new EzioError('badImage', `reading ${opts.sourceName} failed: ${(err as Error).message}`)
  })
  if (tty) process.stderr.write('\n')
  return file
}
