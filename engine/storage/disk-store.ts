import fs from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { mapRange, type Extent } from '../torrent/layout.ts'
import { asWriteError, ChunkStore, type Callback, type ChunkStoreOptions } from './chunk-store.ts'

export interface DiskStoreOptions extends ChunkStoreOptions {
  /** Where each run of the torrent's bytes lives on the disk. */
  extents: Extent[]
}

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
export class DiskStore extends ChunkStore<DiskStoreOptions> {
  private readonly disk: FileHandle
  private readonly extents: Extent[]
  private readonly spanLength: number
  private readonly spansPerChunk: number
  /** Recently read spans, oldest first; a pending read is shared by every block that waits for it. */
  private readonly spans = new Map<number, Promise<Buffer>>()

  constructor (chunkLength: number, opts: DiskStoreOptions) {
    super(chunkLength, opts)
    this.disk = opts.disk
    this.extents = opts.extents
    this.spanLength = Math.min(SPAN, this.chunkLength)
    this.spansPerChunk = Math.ceil(this.chunkLength / this.spanLength)
  }

  put (index: number, buf: Uint8Array, cb: Callback = () => {}): void {
    const refused = this.refusePut(index, buf)
    if (refused) return queueMicrotask(() => cb(refused))
    // Before and after: a span read while the piece was being written may hold part of each.
    this.forgetSpans(index)
    this.lookBefore(index).then(() => this.write(index, buf)).then(() => {
      this.forgetSpans(index)
      this.opts.flusher?.wrote(buf.length)
      cb(null)
    }, (err: unknown) => cb(asWriteError(err, `writing piece ${index} to the target`)))
  }

  get (index: number, opts: { offset?: number, length?: number } | null | Callback<Uint8Array>, cb?: Callback<Uint8Array>): void {
    if (typeof opts === 'function') return this.get(index, null, opts)
    const done: Callback<Uint8Array> = cb ?? (() => {})
    const block = this.blockOf(index, opts)
    if (block instanceof Error) return queueMicrotask(() => done(block))
    const { offset, length } = block
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
