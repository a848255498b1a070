import { EzioError } from '../errors.ts'
import type { Extent } from '../torrent/layout.ts'
import { text } from '../torrent/layout-record.ts'
import type { FrameSpec } from './frames.ts'

/**
 * How a compressed torrent's pieces map to disk bytes, under the info key
 * `ezio-compressed` (so the info hash covers it). Packed binary strings keep
 * the torrent of a large disk within what standard clients load: a run is 16
 * bytes, a piece 32, where bencoded lists would cost several tokens each.
 */
export const COMPRESSED_KEY = 'ezio-compressed'
/** The payload's one file is NAME + this: a torrent stripped of the mapping is an unknown layout, never bytes for a disk. */
export const PAYLOAD_SUFFIX = '.ezio-zstd'

const RUN_BYTES = 16
const PIECE_BYTES = 32
// A frame is decompressed and re-made whole in memory.
const MAX_FRAME = 64 * 1024 * 1024

export interface CompressedPiece {
  /** Where its raw bytes start in the raw stream (the runs end to end). */
  rawStart: number
  rawLength: number
  /** Its frames' bytes; the rest of the piece is padding. */
  compressedLength: number
  /** SHA-1 of its raw bytes, hex: what the resume scan and ezio verify look for on a disk. */
  rawHash: string
}

export interface CompressedMap extends FrameSpec {
  codec: 'zstd'
  /** The zstd that made the pieces (process.versions.zstd). */
  zstdVersion: string
  /** The raw stream, run by run: torrentOffset is the raw-stream offset. */
  runs: Extent[]
  rawLength: number
  pieces: CompressedPiece[]
}

export interface EncodedPiece {
  rawLength: number
  compressedLength: number
  rawHash: Buffer
}

export function encodeCompressedMap (spec: FrameSpec, zstdVersion: string, runs: { diskOffset: number, length: number }[], pieces: EncodedPiece[]): Record<string, unknown> {
  const packedRuns = Buffer.alloc(runs.length * RUN_BYTES)
  runs.forEach((r, i) => {
    packedRuns.writeBigUInt64BE(BigInt(r.diskOffset), i * RUN_BYTES)
    packedRuns.writeBigUInt64BE(BigInt(r.length), i * RUN_BYTES + 8)
  })
  const packedPieces = Buffer.alloc(pieces.length * PIECE_BYTES)
  pieces.forEach((p, i) => {
    packedPieces.writeBigUInt64BE(BigInt(p.rawLength), i * PIECE_BYTES)
    packedPieces.writeUInt32BE(p.compressedLength, i * PIECE_BYTES + 8)
    p.rawHash.copy(packedPieces, i * PIECE_BYTES + 12)
  })
  return { codec: 'zstd', level: spec.level, 'frame size': spec.frameSize, 'zstd version': zstdVersion, runs: packedRuns, pieces: packedPieces }
}

/**
 * The mapping of a decoded info dictionary, checked: runs that overlap or
 * pieces whose raw bytes do not add up to the runs are a corrupt torrent,
 * never bytes written at a wrong place. PIECELENGTHS: each piece's length in the torrent.
 */
export function decodeCompressedMap (info: Record<string, unknown>, pieceLengths: (index: number) => number, pieceCount: number): CompressedMap | undefined {
  const raw = info[COMPRESSED_KEY]
  if (raw === undefined) return undefined
  const bad = (what: string): EzioError => new EzioError('badTorrent', `the torrent's ${COMPRESSED_KEY} mapping ${what}: the torrent is corrupt or from a newer ezio; recreate it with ezio create --compress`)
  if (typeof raw !== 'object' || raw === null || raw instanceof Uint8Array || Array.isArray(raw)) throw bad('is not a dictionary')
  const d = raw as Record<string, unknown>
  if (text(d.codec) !== 'zstd') throw bad(`names the codec "${text(d.codec)}", not zstd`)
  const level = d.level
  const frameSize = d['frame size']
  if (typeof level !== 'number' || !Number.isInteger(level) || level < -7 || level > 22) throw bad('has no zstd level')
  if (typeof frameSize !== 'number' || !Number.isInteger(frameSize) || frameSize < 4096 || frameSize > MAX_FRAME) throw bad('has no usable frame size')
  const runs = decodeRuns(d.runs, bad)
  const rawLength = runs.reduce((sum, r) => sum + r.length, 0)
  const packed = d.pieces
  if (!(packed instanceof Uint8Array) || packed.length !== pieceCount * PIECE_BYTES) throw bad(`does not describe the torrent's ${pieceCount} pieces`)
  const buf = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength)
  const pieces: CompressedPiece[] = []
  let rawStart = 0
  for (let i = 0; i < pieceCount; i++) {
    const length = Number(buf.readBigUInt64BE(i * PIECE_BYTES))
    const compressedLength = buf.readUInt32BE(i * PIECE_BYTES + 8)
    if (length === 0 || rawStart + length > rawLength) throw bad(`gives piece ${i} raw bytes past the end of its runs`)
    if (compressedLength === 0 || compressedLength > pieceLengths(i)) throw bad(`gives piece ${i} more compressed bytes than the piece holds`)
    pieces.push({ rawStart, rawLength: length, compressedLength, rawHash: buf.subarray(i * PIECE_BYTES + 12, (i + 1) * PIECE_BYTES).toString('hex') })
    rawStart += length
  }
  if (rawStart !== rawLength) throw bad(`maps ${rawStart} raw bytes where its runs hold ${rawLength}`)
  return { codec: 'zstd', level, frameSize, zstdVersion: text(d['zstd version']) ?? '', runs, rawLength, pieces }
}

function decodeRuns (packed: unknown, bad: (what: string) => EzioError): Extent[] {
  if (!(packed instanceof Uint8Array) || packed.length === 0 || packed.length % RUN_BYTES !== 0) throw bad('has no runs')
  const buf = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength)
  const runs: Extent[] = []
  let torrentOffset = 0
  for (let at = 0; at < buf.length; at += RUN_BYTES) {
    const diskOffset = Number(buf.readBigUInt64BE(at))
    const length = Number(buf.readBigUInt64BE(at + 8))
    if (length === 0 || !Number.isSafeInteger(diskOffset + length) || !Number.isSafeInteger(torrentOffset + length)) throw bad(`has a run at ${diskOffset} that is empty or past what a disk holds`)
    runs.push({ torrentOffset, diskOffset, length })
    torrentOffset += length
  }
  const sorted = [...runs].sort((a, b) => a.diskOffset - b.diskOffset)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i - 1]!.diskOffset + sorted[i - 1]!.length > sorted[i]!.diskOffset) throw bad(`has runs at disk offsets ${sorted[i - 1]!.diskOffset} and ${sorted[i]!.diskOffset} that overlap`)
  }
  return runs
}
