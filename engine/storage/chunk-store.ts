import type { FileHandle } from 'node:fs/promises'
import { EzioError, errnoOf } from '../errors.ts'

export type Callback<T = void> = (err: Error | null, value?: T) => void

/** What every chunk store over a disk is given. */
export interface ChunkStoreOptions {
  /** The target (or the image a seeder serves), opened for reading, and for writing on a clone. */
  disk: FileHandle
  /** Total torrent payload in bytes. */
  length: number
  /** Told of every piece written; its failure refuses the next put. */
  flusher?: { error: Error | null, wrote: (bytes: number) => void }
  /** Awaited before piece INDEX is written: a last look at what it replaces. */
  beforeWrite?: (index: number) => Promise<void>
}

/**
 * The abstract-chunk-store side both stores share: piece lengths, what a put
 * or a get is refused for, and a close that leaves the disk as it is.
 */
export abstract class ChunkStore<O extends ChunkStoreOptions = ChunkStoreOptions> {
  readonly chunkLength: number
  protected closed = false
  private readonly chunkCount: number
  private readonly lastChunkLength: number

  constructor (chunkLength: number, protected readonly opts: O) {
    this.chunkLength = Number(chunkLength)
    this.chunkCount = Math.ceil(opts.length / this.chunkLength)
    this.lastChunkLength = opts.length % this.chunkLength || this.chunkLength
  }

  pieceLength (index: number): number {
    return index === this.chunkCount - 1 ? this.lastChunkLength : this.chunkLength
  }

  close (cb: Callback = () => {}): void {
    this.closed = true
    this.closing()
    queueMicrotask(() => cb(null))
  }

  // The disk is the operator's, not ours: destroying the store must not
  // delete or truncate anything.
  destroy (cb: Callback = () => {}): void {
    this.close(cb)
  }

  /** What the store lets go of at close. */
  protected closing (): void {}

  /** Why piece INDEX cannot be written from BUF now; null when it can. */
  protected refusePut (index: number, buf: Uint8Array): Error | null {
    if (this.closed) return new Error('the disk store is closed')
    if (buf.length !== this.pieceLength(index)) return new Error(`piece ${index} is ${buf.length} bytes, expected ${this.pieceLength(index)}`)
    const flushError = this.opts.flusher?.error
    return flushError ? asWriteError(flushError, 'flushing the target to the disk') : null
  }

  /** The bytes of piece INDEX a get asks for, or why it cannot have them. */
  protected blockOf (index: number, opts: { offset?: number, length?: number } | null): { offset: number, length: number } | Error {
    if (this.closed) return new Error('the disk store is closed')
    const size = this.pieceLength(index)
    const offset = opts?.offset ?? 0
    const length = opts?.length ?? size - offset
    if (offset < 0 || offset + length > size) return new Error(`read of ${length} bytes at ${offset} lies outside piece ${index}`)
    return { offset, length }
  }

  /** BEFOREWRITE's look at piece INDEX; a failed look does not stop the write. */
  protected lookBefore (index: number): Promise<void> {
    return this.opts.beforeWrite?.(index).catch(() => {}) ?? Promise.resolve()
  }
}

export function asWriteError (err: unknown, what: string): EzioError {
  const code = errnoOf(err) ?? 'EIO'
  return new EzioError('writeFailed', `${what} failed (${code}: ${(err as Error).message}): the disk is not usable as it is; check it and clone again`, { cause: err })
}
