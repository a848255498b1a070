import { createHash } from 'node:crypto'

/**
 * Checks pieces read from a disk against the torrent's hashes. A blank disk
 * reads as zeros: comparing against zeros (a memcmp) and the hash of a zero
 * piece (computed once) spares SHA-1 over most of a fresh disk.
 */
export class PieceChecker {
  private readonly zeros: Buffer
  private readonly zeroHashes = new Map<number, string>()

  constructor (private readonly hashes: string[], pieceLength: number) {
    this.zeros = Buffer.alloc(pieceLength)
  }

  matches (index: number, data: Uint8Array): boolean {
    const expected = this.hashes[index]
    if (expected === undefined) return false
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    if (buf.length <= this.zeros.length && buf.equals(this.zeros.subarray(0, buf.length))) {
      return this.zeroHash(buf.length) === expected
    }
    return createHash('sha1').update(buf).digest('hex') === expected
  }

  /** Whether piece INDEX, LENGTH bytes long, is all zeros in the image. */
  isZeroPiece (index: number, length: number): boolean {
    return length <= this.zeros.length && this.zeroHash(length) === this.hashes[index]
  }

  private zeroHash (length: number): string {
    let h = this.zeroHashes.get(length)
    if (h === undefined) {
      h = createHash('sha1').update(this.zeros.subarray(0, length)).digest('hex')
      this.zeroHashes.set(length, h)
    }
    return h
  }
}
