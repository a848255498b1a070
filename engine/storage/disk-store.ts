import fs from 'node:fs'
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
  /** Told of every piece written. */
  flusher?: Flusher
  /** Awaited before piece INDEX is written: a last look at what it replaces. */
  beforeWrite?: (index: number) => Promise<void>
}

type Callback<T = void> = (err: Error | null, value?: T) => void

// Peers ask for 16 KiB blocks, one after the other within a piece: reading a
// span of the piece once and answering its blocks from memory costs one read
// where there were sixteen. SPANS bounds the memory (8 MiB) and leaves a span
// for each of the peers that fetch from us at once.
const SPAN = 256 * 1024
const SPANS = 32

// The kernel starts writing dirty pages back only past a share of the RAM
// (10 %: gigabytes on a lab machine), so the fsync at the end of a clone
// used to wait for the disk to write all of them after the network was done.
// Flushing every FLUSH_EVERY bytes while the clone runs lets the disk write
// alongside the download and keeps that last fsync short.
const FLUSH_EVERY = 32 * 1024 * 1024

/**
 * Flushes a disk in the background as it is written, and at the end. A
 * failed background flush is kept for sync(): the kernel reports a
 * write-back error to one fsync only, so a second would succeed.
 */
export class Flusher {
  private unflushed = 0
  private running: Promise<void> | null = null
  private failure: Error | null = null

  constructor (private readonly disk: FileHandle) {}

  get error (): Error | null {
    return this.failure
  }

  wrote (bytes: number): void {
    this.unflushed += bytes
    if (this.running || this.unflushed < FLUSH_EVERY) return
    this.unflushed = 0
    this.running = this.disk.datasync()
      .catch((err: Error) => { this.failure ??= err })
      .finally(() => { this.running = null })
  }

  /** Everything written is on the disk, or this rejects. */
  async sync (): Promise<void> {
    await this.running
    if (this.failure) throw this.failure
    await this.disk.sync()
  }
}

/**
 * An abstract-chunk-store over a disk: piece I goes to the disk bytes its
 * extents name, with positional reads and writes and no copy anywhere else.
 * This is the only code that knows where a piece lives on the disk. It owns
 * the bytes the torrent's extents cover, and no other: a whole disk's GPT
 * (its first and last sectors) is never in a piece, and is written by
 * engine/disk/target-table.ts after the pieces.
 */
export class DiskStore {
  readonly chunkLength: number
  private readonly disk: FileHandle
  private readonly extents: Extent[]
  private readonly length: number
  private readonly lastChunkLength: number
  private readonly chunkCount: number
  private readonly spanLength: number
  private readonly spansPerChunk: number
  /** Recently read spans, oldest first; a pending read is shared by every block that waits for it. */
  private readonly spans = new Map<number, Promise<Buffer>>()
  private readonly flusher: Flusher | undefined
  private readonly beforeWrite: ((index: number) => Promise<void>) | undefined
  private closed = false

  constructor (chunkLength: number, opts: DiskStoreOptions) {
    this.chunkLength = Number(chunkLength)
    this.disk = opts.disk
    this.extents = opts.extents
    this.length = opts.length
    this.chunkCount = Math.ceil(this.length / this.chunkLength)
    this.lastChunkLength = this.length % this.chunkLength || this.chunkLength
    this.spanLength = Math.min(SPAN, this.chunkLength)
    this.spansPerChunk = Math.ceil(this.chunkLength / this.spanLength)
    this.flusher = opts.flusher
    this.beforeWrite = opts.beforeWrite
  }

  put (index: number, buf: Uint8Array, cb: Callback = () => {}): void {
    if (this.closed) return queueMicrotask(() => cb(new Error('the disk store is closed')))
    if (buf.length !== this.pieceLength(index)) {
      return queueMicrotask(() => cb(new Error(`piece ${index} is ${buf.length} bytes, expected ${this.pieceLength(index)}`)))
    }
    const flushError = this.flusher?.error
    if (flushError) return queueMicrotask(() => cb(asWriteError(flushError, 'flushing the target to the disk')))
    // Before and after: a span read while the piece was being written may hold part of each.
    this.forgetSpans(index)
    const look = this.beforeWrite?.(index).catch(() => {}) ?? Promise.resolve()
    look.then(() => this.write(index, buf)).then(() => {
      this.forgetSpans(index)
      this.flusher?.wrote(buf.length)
      cb(null)
    }, (err: unknown) => cb(asWriteError(err, `writing piece ${index} to the target`)))
  }

  get (index: number, opts: { offset?: number, length?: number } | null | Callback<Uint8Array>, cb?: Callback<Uint8Array>): void {
    if (typeof opts === 'function') return this.get(index, null, opts)
    const done: Callback<Uint8Array> = cb ?? (() => {})
    if (this.closed) return queueMicrotask(() => done(new Error('the disk store is closed')))
    const size = this.pieceLength(index)
    const offset = opts?.offset ?? 0
    const length = opts?.length ?? size - offset
    if (offset < 0 || offset + length > size) {
      return queueMicrotask(() => done(new Error(`read of ${length} bytes at ${offset} lies outside piece ${index}`)))
    }
    const span = Math.floor(offset / this.spanLength)
    const within = offset - span * this.spanLength
    const reading = within + length <= this.spanLength
      ? this.span(index, span).then(buf => buf.subarray(within, within + length))
      : this.read(index * this.chunkLength + offset, length)
    reading.then(buf => done(null, buf), (err: Error) => done(err))
  }

  /**
   * Reads piece INDEX, into SCRATCH (at least a piece long) when given, and
   * returns the part that holds it: for a reader that checks pieces one after
   * the other, one buffer for all of them rather than a fresh piece-sized one each.
   */
  async readPiece (index: number, scratch?: Buffer): Promise<Buffer> {
    if (this.closed) throw new Error('the disk store is closed')
    return this.read(index * this.chunkLength, this.pieceLength(index), scratch)
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

  pieceLength (index: number): number {
    return index === this.chunkCount - 1 ? this.lastChunkLength : this.chunkLength
  }

  private span (index: number, span: number): Promise<Buffer> {
    const key = index * this.spansPerChunk + span
    let reading = this.spans.get(key)
    if (reading) {
      this.spans.delete(key)
    } else {
      const start = span * this.spanLength
      reading = this.read(index * this.chunkLength + start, Math.min(this.spanLength, this.pieceLength(index) - start))
      // A failed read is not remembered: the next ask tries the disk again.
      reading.catch(() => this.spans.delete(key))
      if (this.spans.size >= SPANS) this.spans.delete(this.spans.keys().next().value!)
    }
    this.spans.set(key, reading)
    return reading
  }

  private forgetSpans (index: number): void {
    for (let s = 0; s < this.spansPerChunk; s++) this.spans.delete(index * this.spansPerChunk + s)
  }

  private write (index: number, buf: Uint8Array): Promise<void> {
    return writeExtents(this.disk.fd, this.extents, index * this.chunkLength, buf)
  }

  private read (start: number, length: number, scratch?: Buffer): Promise<Buffer> {
    return readExtents(this.disk.fd, this.extents, start, scratch ? scratch.subarray(0, length) : Buffer.allocUnsafe(length))
  }
}

/** Writes BUF at stream offset START, each run of it where EXTENTS put it on the disk FD. */
export async function writeExtents (fd: number, extents: Extent[], start: number, buf: Uint8Array): Promise<void> {
  for (const run of mapRange(extents, start, buf.length)) {
    let written = 0
    while (written < run.length) {
      const bytesWritten = await io(fs.write, fd, buf, run.bufferOffset + written, run.length - written, run.diskOffset + written)
      if (bytesWritten === 0) throw Object.assign(new Error('the disk accepted no bytes'), { code: 'ENOSPC' })
      written += bytesWritten
    }
  }
}

/** Fills BUF with the stream's bytes from START, read from where EXTENTS put them on the disk FD. */
export async function readExtents (fd: number, extents: Extent[], start: number, buf: Buffer): Promise<Buffer> {
  for (const run of mapRange(extents, start, buf.length)) {
    let got = 0
    while (got < run.length) {
      const bytesRead = await io(fs.read, fd, buf, run.bufferOffset + got, run.length - got, run.diskOffset + got)
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

type PositionalIo = (fd: number, buf: Uint8Array, offset: number, length: number, position: number, cb: (err: Error | null, bytes: number) => void) => void

// fs's callback calls, on the FileHandle's descriptor: a FileHandle method
// costs a promise and a wrapper object more on every block.
function io (call: PositionalIo, fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => call(fd, buf, offset, length, position, (err, bytes) => err ? reject(err) : resolve(bytes)))
}

export function asWriteError (err: unknown, what: string): EzioError {
  const code = errnoOf(err) ?? 'EIO'
  return new EzioError('writeFailed', `${what} failed (${code}: ${(err as Error).message}): the disk is not usable as it is; check it and clone again`, { cause: err })
}
