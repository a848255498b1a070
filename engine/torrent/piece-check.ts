import { createHash } from 'node:crypto'

// Compared and hashed a slice at a time: a zero buffer as long as a piece
// (16 MiB with ezio upstream's torrents) would be resident for nothing.
const ZEROS = Buffer.alloc(64 * 1024)

/**
 * Checks pieces read from a disk against the torrent's hashes. A blank disk
 * reads as zeros: comparing against zeros (a memcmp) and the hash of a zero
 * piece (computed once) spares SHA-1 over most of a fresh disk.
 */
export class PieceChecker {
  private readonly zeroHashes = new Map<number, string>()

  constructor (private readonly hashes: string[]) {}

  matches (index: number, data: Uint8Array): boolean {
    const expected = this.hashes[index]
    if (expected === undefined) return false
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    if (isZeros(buf)) return this.zeroHash(buf.length) === expected
    return createHash('sha1').update(buf).digest('hex') === expected
  }

  /** Whether piece INDEX, LENGTH bytes long, is all zeros in the image. */
  isZeroPiece (index: number, length: number): boolean {
    return this.zeroHash(length) === this.hashes[index]
  }

  private zeroHash (length: number): string {
    let h = this.zeroHashes.get(length)
    if (h === undefined) {
      const sha = createHash('sha1')
      for (let done = 0; done < length; done += ZEROS.length) sha.update(ZEROS.subarray(0, Math.min(ZEROS.length, length - done)))
      h = sha.digest('hex')
      this.zeroHashes.set(length, h)
    }
    return h
  }
}

function isZeros (buf: Buffer): boolean {
  for (let at = 0; at < buf.length; at += ZEROS.length) {
    const n = Math.min(ZEROS.length, buf.length - at)
    if (!buf.subarray(at, at + n).equals(ZEROS.subarray(0, n))) return false
  }
  return true
}
