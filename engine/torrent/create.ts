import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import bencode from 'bencode'

export interface SourceRun {
  /** Path inside the torrent, without the torrent's name. Empty for a single-file torrent. */
  path: string[]
  /** Where the run starts on the source device. */
  sourceOffset: number
  length: number
}

export interface CreateOptions {
  source: FileHandle
  name: string
  runs: SourceRun[]
  pieceLength: number
  announce: string[]
  /** Extra keys for the info dictionary (they change the info hash). */
  extraInfo?: Record<string, unknown>
  onProgress?: (hashedBytes: number, totalBytes: number) => void
}

const READ_CHUNK = 4 * 1024 * 1024

/**
 * Hash the runs of SOURCE joined end to end into a private BitTorrent v1
 * torrent. Done here rather than with create-torrent, which sizes its input
 * with fs.stat and so sees a block device as empty.
 */
export async function createTorrent (opts: CreateOptions): Promise<Uint8Array> {
  const total = opts.runs.reduce((sum, r) => sum + r.length, 0)
  const pieceHashes: Buffer[] = []
  let piece = createHash('sha1')
  let inPiece = 0
  let hashed = 0
  const buf = Buffer.allocUnsafe(READ_CHUNK)
  for (const run of opts.runs) {
    let done = 0
    while (done < run.length) {
      const want = Math.min(READ_CHUNK, run.length - done, opts.pieceLength - inPiece)
      const { bytesRead } = await opts.source.read(buf, 0, want, run.sourceOffset + done)
      if (bytesRead === 0) throw new Error(`the source ends at byte ${run.sourceOffset + done}, before the ${run.length}-byte run at ${run.sourceOffset} does`)
      piece.update(buf.subarray(0, bytesRead))
      inPiece += bytesRead
      done += bytesRead
      hashed += bytesRead
      if (inPiece === opts.pieceLength) {
        pieceHashes.push(piece.digest())
        piece = createHash('sha1')
        inPiece = 0
      }
      opts.onProgress?.(hashed, total)
    }
  }
  if (inPiece > 0 || pieceHashes.length === 0) pieceHashes.push(piece.digest())

  const single = opts.runs.length === 1 && opts.runs[0]!.path.length === 0
  return torrentFile({
    name: opts.name,
    'piece length': opts.pieceLength,
    pieces: Buffer.concat(pieceHashes),
    private: 1,
    ...(single
      ? { length: total }
      : { files: opts.runs.map(r => ({ length: r.length, path: r.path })) }),
    ...opts.extraInfo
  }, opts.announce)
}

/** The .torrent of INFO, announcing to ANNOUNCE (none: peers come from the config). */
export function torrentFile (info: Record<string, unknown>, announce: string[]): Uint8Array {
  const torrent: Record<string, unknown> = {
    info,
    'created by': 'ezio',
    'creation date': Math.floor(Date.now() / 1000)
  }
  if (announce.length > 0) {
    torrent.announce = announce[0]
    torrent['announce-list'] = announce.map(url => [url])
  }
  return bencode.encode(torrent)
}
