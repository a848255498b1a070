import { randomBytes } from 'node:crypto'
import { zstdDecompressSync } from 'node:zlib'
import t from 'tap'
import { frameLength, packPiece, remakePiece, type FrameSpec } from '../../../engine/compress/frames.ts'

const KiB = 1024

// Text-like bytes (words from a small vocabulary) compress about as a system's files do; random bytes not at all.
function textLike (length: number): Buffer {
  const words = ['ezio', 'clone', 'disk', 'piece', 'frame', 'zstd', 'room', 'lab', 'seed', 'peer', '\n']
  const out = Buffer.alloc(length)
  let at = 0
  let seed = 7
  while (at < length) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    at += out.write(words[seed % words.length]! + ' ', at)
  }
  return out
}

async function packAll (raw: Buffer, pieceLength: number, spec: FrameSpec): Promise<{ rawStart: number, rawLength: number, compressedLength: number, bytes: Buffer }[]> {
  const read = async (start: number, length: number): Promise<Buffer> => raw.subarray(start, start + length)
  const pieces = []
  for (let rawStart = 0; rawStart < raw.length;) {
    const p = await packPiece(read, rawStart, raw.length - rawStart, pieceLength, spec)
    const bytes = Buffer.alloc(pieceLength)
    Buffer.concat(p.frames).copy(bytes)
    t.equal(p.compressedLength, Buffer.concat(p.frames).length)
    pieces.push({ rawStart, rawLength: p.rawLength, compressedLength: p.compressedLength, bytes })
    rawStart += p.rawLength
  }
  return pieces
}

for (const [what, raw] of [['text-like', textLike(3 * 1024 * KiB + 777)], ['random', randomBytes(700 * KiB + 5)], ['zeros', Buffer.alloc(2048 * KiB)]] as const) {
  t.test(`${what} bytes: every piece decompresses to its raw bytes on its own and is re-made byte for byte`, async t => {
    const spec = { level: 3, frameSize: 64 * KiB }
    const pieceLength = 64 * KiB
    const pieces = await packAll(raw, pieceLength, spec)
    const read = async (start: number, length: number): Promise<Buffer> => raw.subarray(start, start + length)
    for (const p of pieces) {
      // Any order: each piece alone, padding and all after its frames.
      const expected = raw.subarray(p.rawStart, p.rawStart + p.rawLength)
      const frames = p.bytes.subarray(0, p.compressedLength)
      const parts: Buffer[] = []
      for (let at = 0, n; at < frames.length; at += n) {
        n = frameLength(frames, at)
        if (n === null) { t.fail(`no frame at ${at}`); break }
        parts.push(zstdDecompressSync(frames.subarray(at, at + n)))
      }
      t.ok(Buffer.concat(parts).equals(expected), 'its frames, one by one, decompress to its raw bytes')
      t.equal(frameLength(p.bytes, p.compressedLength), null, 'the padding is no frame')
      const again = await remakePiece(read, p.rawStart, p.rawLength, Buffer.alloc(pieceLength), spec)
      t.ok(again?.equals(p.bytes), `piece at raw ${p.rawStart} re-made identically`)
    }
    t.equal(pieces.reduce((sum, p) => sum + p.rawLength, 0), raw.length, 'the pieces cover the raw bytes once')
    if (what === 'text-like') t.ok(pieces.length < raw.length / pieceLength / 2, `${pieces.length} pieces for ${raw.length} bytes: compressed`)
    if (what === 'random') t.ok(pieces.every(p => p.rawLength > 0.9 * pieceLength || p === pieces.at(-1)), 'incompressible frames are cut to fill their pieces')
  })
}

t.test('a piece re-made with another level does not fit or differs: it is never taken for the torrent\'s', async t => {
  const raw = textLike(512 * KiB)
  const spec = { level: 3, frameSize: 64 * KiB }
  const [first] = await packAll(raw, 64 * KiB, spec)
  const read = async (start: number, length: number): Promise<Buffer> => raw.subarray(start, start + length)
  const other = await remakePiece(read, first!.rawStart, first!.rawLength, Buffer.alloc(64 * KiB), { ...spec, level: 1 })
  t.notOk(other?.equals(first!.bytes), 'level 1 does not make level 3\'s piece')
})
