import { createHash } from 'node:crypto'
import { zstdDecompressSync } from 'node:zlib'
import { frameLength, remakePiece } from '../compress/frames.ts'
import type { CompressedMap, CompressedPiece } from '../compress/mapping.ts'
import { EzioError } from '../errors.ts'
import { asWriteError, ChunkStore, type Callback, type ChunkStoreOptions } from './chunk-store.ts'
import { readExtents, writeExtents } from './disk-store.ts'

export interface CompressedStoreOptions extends ChunkStoreOptions {
  map: CompressedMap
  /** SHA-1 of each piece as the torrent has it, hex: a re-made piece is checked against it. */
  pieceHashes: string[]
}

// Pieces just written are what the room asks for next: kept (32 MiB of
// them) so that passing them on costs no compression. Older ones are re-made
// from the disk.
const CACHE_BYTES = 32 * 1024 * 1024

/**
 * The chunk store of a compressed torrent (docs/compressed-pieces.md): a
 * verified piece is decompressed beside the download and its raw bytes
 * written where the mapping puts them; a piece asked for is the copy kept,
 * or is re-made from the disk and given out only if it hashes as the
 * torrent says.
 */
export class CompressedStore extends ChunkStore<CompressedStoreOptions> {
  /** Pieces asked for that this machine could not re-make byte for byte (another zstd): never sent. */
  unreproducible = 0
  private readonly kept = new Map<number, Promise<Buffer>>()
  private readonly keep: number
  // Re-making is CPU work: one at a time, in one frame-sized buffer.
  private remaking: Promise<unknown> = Promise.resolve()
  private readonly scratch: Buffer

  constructor (chunkLength: number, opts: CompressedStoreOptions) {
    super(chunkLength, opts)
    this.keep = Math.max(2, Math.floor(CACHE_BYTES / this.chunkLength))
    this.scratch = Buffer.allocUnsafe(opts.map.frameSize)
  }

  put (index: number, buf: Uint8Array, cb: Callback = () => {}): void {
    const refused = this.refusePut(index, buf)
    if (refused) return queueMicrotask(() => cb(refused))
    const piece = this.opts.map.pieces[index]!
    // The caller reuses BUF once told: the copy kept is ours.
    const copy = Buffer.from(buf)
    this.lookBefore(index).then(() => this.inflate(index, piece, copy)).then(() => {
      this.remember(index, Promise.resolve(copy))
      this.opts.flusher?.wrote(piece.rawLength)
      cb(null)
    }, (err: unknown) => cb(err instanceof EzioError ? err : asWriteError(err, `writing piece ${index} to the target`)))
  }

  get (index: number, opts: { offset?: number, length?: number } | null | Callback<Uint8Array>, cb?: Callback<Uint8Array>): void {
    if (typeof opts === 'function') return this.get(index, null, opts)
    const done: Callback<Uint8Array> = cb ?? (() => {})
    const block = this.blockOf(index, opts)
    if (block instanceof Error) return queueMicrotask(() => done(block))
    const { offset, length } = block
    this.readPiece(index).then(buf => done(null, buf.subarray(offset, offset + length)), (err: Error) => done(err))
  }

  /** Piece INDEX as the torrent has it: the copy kept, or re-made from the disk and checked. */
  readPiece (index: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('the disk store is closed'))
    const kept = this.kept.get(index)
    if (kept) {
      this.kept.delete(index)
      this.kept.set(index, kept)
      return kept
    }
    const making = this.remaking.then(() => this.remake(index))
    this.remaking = making.catch(() => {})
    // A failed re-make is not remembered: the disk may be read again later.
    making.catch(() => this.kept.delete(index))
    this.remember(index, making)
    return making
  }

  protected override closing (): void {
    this.kept.clear()
  }

  private remember (index: number, piece: Promise<Buffer>): void {
    this.kept.delete(index)
    this.kept.set(index, piece)
    if (this.kept.size > this.keep) this.kept.delete(this.kept.keys().next().value!)
  }

  /**
   * Decompresses PIECE's frames and writes them where the mapping says, never
   * past its raw length. On the main thread, between writes: in libuv's
   * threads each call's zstd context came from another malloc arena, and a
   * 1->1 clone peaked at 342-369 MiB against 238-250 MiB here, no faster on
   * two cores (docs/compressed-pieces.md). One output chunk per frame: at
   * zlib's default 16 KiB a 1 MiB frame was 64 chunks and a copy to join them.
   */
  private async inflate (index: number, piece: CompressedPiece, buf: Buffer): Promise<void> {
    const { map, disk } = this.opts
    const corrupt = (what: string): EzioError => new EzioError('badTorrent', `piece ${index} verified but ${what}: the torrent is corrupt; recreate it with ezio create --compress`)
    let done = 0
    for (let at = 0; at < piece.compressedLength;) {
      const length = frameLength(buf.subarray(0, piece.compressedLength), at)
      if (length === null) throw corrupt(`holds no whole zstd frame at byte ${at}`)
      const want = Math.min(map.frameSize, piece.rawLength - done)
      let raw: Buffer
      try {
        raw = zstdDecompressSync(buf.subarray(at, at + length), { maxOutputLength: Math.max(want, 1), chunkSize: Math.max(want, 64) })
      } catch (err) {
        throw corrupt(`does not decompress to its ${piece.rawLength} bytes (${(err as Error).message})`)
      }
      if (raw.length !== want) throw corrupt(`has a frame of ${raw.length} bytes where ${want} were due`)
      await writeExtents(disk.fd, map.runs, piece.rawStart + done, raw)
      done += raw.length
      at += length
    }
    if (done !== piece.rawLength) throw corrupt(`decompresses to ${done} bytes, not its ${piece.rawLength}`)
  }

  private async remake (index: number): Promise<Buffer> {
    const { map, disk } = this.opts
    const piece = map.pieces[index]!
    const read = (start: number, length: number): Promise<Buffer> => readExtents(disk.fd, map.runs, start, this.scratch.subarray(0, length))
    const made = await remakePiece(read, piece.rawStart, piece.rawLength, Buffer.alloc(this.pieceLength(index)), map)
    if (!made || createHash('sha1').update(made).digest('hex') !== this.opts.pieceHashes[index]) {
      this.unreproducible++
      throw new Error(`piece ${index} cannot be re-made from the disk as the torrent has it (zstd ${process.versions.zstd} here, ${map.zstdVersion} made it): not offered`)
    }
    return made
  }
}
