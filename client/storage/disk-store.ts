import type { FileHandle } from 'node:fs/promises'
import { EzioError, errnoOf } from '../errors.ts'
import { mapRange, type Extent } from '../torrent/layout.ts'

export interface DiskStoreOptions {
  /** The target, opened for reading and writing. */
  disk: FileHandle
  /** Where each run of the torrent's bytes lives on the disk. */
  extents: Extent[]
  /** Total torrent payload in bytes. */
  length: number
}

type Callback<T = void> = (err: Error | null, value?: T) => void

/**
 * An abstract-chunk-store over a disk: piece I goes to the disk bytes its
 * extents name, with positional reads and writes and no copy anywhere else.
 * This is the only code that knows where a piece lives on the disk.
 */
export class DiskStore {
  readonly chunkLength: number
  private readonly disk: FileHandle
  private readonly extents: Extent[]
  private readonly length: number
  private readonly lastChunkLength: number
  private readonly chunkCount: number
  private closed = false

  constructor (chunkLength: number, opts: DiskStoreOptions) {
    this.chunkLength = Number(chunkLength)
    this.disk = opts.disk
    this.extents = opts.extents
    this.length = opts.length
    this.chunkCount = Math.ceil(this.length / this.chunkLength)
    this.lastChunkLength = this.length % this.chunkLength || this.chunkLength
  }

  put (index: number, buf: Uint8Array, cb: Callback = () => {}): void {
    if (this.closed) return queueMicrotask(() => cb(new Error('the disk store is closed')))
    if (buf.length !== this.chunkLengthOf(index)) {
      return queueMicrotask(() => cb(new Error(`piece ${index} is ${buf.length} bytes, expected ${this.chunkLengthOf(index)}`)))
    }
    this.write(index, buf).then(() => cb(null), (err: unknown) => cb(asWriteError(err, index)))
  }

  get (index: number, opts: { offset?: number, length?: number } | null | Callback<Uint8Array>, cb?: Callback<Uint8Array>): void {
    if (typeof opts === 'function') return this.get(index, null, opts)
    const done: Callback<Uint8Array> = cb ?? (() => {})
    if (this.closed) return queueMicrotask(() => done(new Error('the disk store is closed')))
    const size = this.chunkLengthOf(index)
    const offset = opts?.offset ?? 0
    const length = opts?.length ?? size - offset
    if (offset < 0 || offset + length > size) {
      return queueMicrotask(() => done(new Error(`read of ${length} bytes at ${offset} lies outside piece ${index}`)))
    }
    this.read(index * this.chunkLength + offset, length).then(buf => done(null, buf), (err: Error) => done(err))
  }

  /**
   * Reads piece INDEX into SCRATCH (at least a piece long) and returns the
   * part that holds it: for a reader that checks pieces one after the other,
   * one buffer for all of them rather than a fresh piece-sized one each.
   */
  async readPiece (index: number, scratch: Buffer): Promise<Buffer> {
    if (this.closed) throw new Error('the disk store is closed')
    return this.read(index * this.chunkLength, this.chunkLengthOf(index), scratch)
  }

  close (cb: Callback = () => {}): void {
    this.closed = true
    queueMicrotask(() => cb(null))
  }

  // The disk is the operator's, not ours: destroying the store must not
  // delete or truncate anything.
  destroy (cb: Callback = () => {}): void {
    this.close(cb)
  }

  private chunkLengthOf (index: number): number {
    return index === this.chunkCount - 1 ? this.lastChunkLength : this.chunkLength
  }

  private async write (index: number, buf: Uint8Array): Promise<void> {
    for (const run of mapRange(this.extents, index * this.chunkLength, buf.length)) {
      let written = 0
      while (written < run.length) {
        const { bytesWritten } = await this.disk.write(buf, run.bufferOffset + written, run.length - written, run.diskOffset + written)
        if (bytesWritten === 0) throw Object.assign(new Error('the disk accepted no bytes'), { code: 'ENOSPC' })
        written += bytesWritten
      }
    }
  }

  private async read (start: number, length: number, scratch?: Buffer): Promise<Buffer> {
    const buf = scratch ? scratch.subarray(0, length) : Buffer.allocUnsafe(length)
    for (const run of mapRange(this.extents, start, length)) {
      let got = 0
      while (got < run.length) {
        const { bytesRead } = await this.disk.read(buf, run.bufferOffset + got, run.length - got, run.diskOffset + got)
        if (bytesRead === 0) {
          // Past the end of an image file: what a disk would hold there is unknown, call it zeros.
          buf.fill(0, run.bufferOffset + got, run.bufferOffset + run.length)
          break
        }
        got += bytesRead
      }
    }
    return buf
  }
}

function asWriteError (err: unknown, index: number): EzioError {
  const code = errnoOf(err) ?? 'EIO'
  return new EzioError('writeFailed', `writing piece ${index} to the target failed (${code}: ${(err as Error).message}): the disk is not usable as it is; check it and clone again`, { cause: err })
}
