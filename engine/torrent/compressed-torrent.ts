import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { DEFAULT_FRAME, DEFAULT_LEVEL, packPiece, type FrameSpec } from '../compress/frames.ts'
import { COMPRESSED_KEY, encodeCompressedMap, PAYLOAD_SUFFIX, type EncodedPiece } from '../compress/mapping.ts'
import { readExtents } from '../storage/disk-store.ts'
import { torrentFile, type CreateOptions } from './create.ts'
import type { Extent } from './layout.ts'
import type { TorrentMeta } from './load.ts'
import { mb } from '../format.ts'

export interface CompressedCreateOptions extends CreateOptions {
  level?: number
  /** Where to write the payload (the compressed pieces end to end), for a seeder that serves it as is. */
  payload?: FileHandle
  /** Each piece as it is made, before the next is: ezio capture sends them on. */
  onPiece?: PieceSink
}

/** Takes a piece (BYTES is reused for the next one: copy what is kept) and the raw bytes packed so far. */
export type PieceSink = (bytes: Buffer, rawDone: number, rawTotal: number) => Promise<void>

/**
 * A torrent of self-contained compressed pieces of SOURCE's runs
 * (docs/compressed-pieces.md): each piece is whole zstd frames, padded to
 * the piece length, and the mapping in the info dictionary says which raw
 * bytes each piece holds. Its payload is one file, NAME.ezio-zstd, that any
 * BitTorrent client can download and seed.
 */
export async function createCompressedTorrent (opts: CompressedCreateOptions): Promise<Uint8Array> {
  const spec: FrameSpec = { level: opts.level ?? DEFAULT_LEVEL, frameSize: Math.min(DEFAULT_FRAME, opts.pieceLength) }
  const runs = rawRuns(opts)
  const rawTotal = runs.reduce((sum, r) => sum + r.length, 0)
  const scratch = Buffer.allocUnsafe(spec.frameSize)
  const read = (start: number, length: number): Promise<Buffer> => readExtents(opts.source.fd, runs, start, scratch.subarray(0, length))
  const piece = Buffer.alloc(opts.pieceLength)
  const pieceHashes: Buffer[] = []
  const pieces: EncodedPiece[] = []
  let payloadLength = 0
  for (let rawStart = 0; rawStart < rawTotal;) {
    const sha = createHash('sha1')
    const packed = await packPiece(read, rawStart, rawTotal - rawStart, opts.pieceLength, spec, raw => sha.update(raw))
    let at = 0
    for (const frame of packed.frames) at += frame.copy(piece, at)
    const last = rawStart + packed.rawLength === rawTotal
    // The last piece is as long as its frames: the payload ends there.
    const bytes = last ? piece.subarray(0, at) : piece.fill(0, at)
    pieceHashes.push(createHash('sha1').update(bytes).digest())
    pieces.push({ rawLength: packed.rawLength, compressedLength: packed.compressedLength, rawHash: sha.digest() })
    if (opts.payload) await opts.payload.write(bytes, 0, bytes.length, payloadLength)
    payloadLength += bytes.length
    rawStart += packed.rawLength
    await opts.onPiece?.(bytes, rawStart, rawTotal)
    opts.onProgress?.(rawStart, rawTotal)
  }
  return torrentFile({
    name: opts.name,
    'piece length': opts.pieceLength,
    pieces: Buffer.concat(pieceHashes),
    private: 1,
    files: [{ length: payloadLength, path: [opts.name + PAYLOAD_SUFFIX] }],
    ...opts.extraInfo,
    [COMPRESSED_KEY]: encodeCompressedMap(spec, process.versions.zstd ?? '', runs, pieces)
  }, opts.announce)
}

/** The source runs as the raw stream: on the target each lands where it lay on the source. */
function rawRuns (opts: CreateOptions): Extent[] {
  let torrentOffset = 0
  return opts.runs.filter(r => r.length > 0).map(r => {
    const e = { torrentOffset, diskOffset: r.sourceOffset, length: r.length }
    torrentOffset += r.length
    return e
  })
}

/** What a compressed torrent sends, beside the raw bytes it stands for: printed by ezio create. */
export function compressedSummary (meta: TorrentMeta): string {
  const map = meta.compressed
  if (!map) return ''
  return `raw      ${map.rawLength} bytes (${mb(map.rawLength)} MB) in ${map.runs.length} run${map.runs.length === 1 ? '' : 's'}\n` +
    `zstd     level ${map.level}, ${map.frameSize}-byte frames, ${meta.pieces.length} pieces of ${meta.pieceLength} bytes\n` +
    `payload  ${meta.length} bytes (${mb(meta.length)} MB): ${(meta.length / map.rawLength).toFixed(3)} of the raw bytes\n`
}
