import type { FileHandle } from 'node:fs/promises'
import type { ByteRange } from '../disk/partition-table.ts'

/** The granularity of the scan: a block travels when any of its bytes is not zero. */
export const NONZERO_BLOCK = 64 * 1024
const READ = 4 * 1024 * 1024

/**
 * The blocks of SIZE bytes at OFFSET of SOURCE that hold anything but zeros,
 * as ranges from OFFSET: the used-block map of a filesystem partclone does
 * not know. Reads the whole range once.
 */
export async function nonZeroRuns (source: FileHandle, offset: number, size: number, onRead?: (bytes: number) => void): Promise<ByteRange[]> {
  const runs: ByteRange[] = []
  const buf = Buffer.alloc(READ)
  const zero = Buffer.alloc(NONZERO_BLOCK)
  for (let at = 0; at < size; at += READ) {
    const want = Math.min(READ, size - at)
    let got = 0
    while (got < want) {
      const { bytesRead } = await source.read(buf, got, want - got, offset + at + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    buf.fill(0, got, want)
    for (let b = 0; b < want; b += NONZERO_BLOCK) {
      const len = Math.min(NONZERO_BLOCK, want - b)
      if (buf.subarray(b, b + len).equals(zero.subarray(0, len))) continue
      const start = at + b
      const prev = runs[runs.length - 1]
      if (prev && prev.offset + prev.length === start) prev.length += len
      else runs.push({ offset: start, length: len })
    }
    onRead?.(want)
  }
  return runs
}
