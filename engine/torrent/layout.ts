import { EzioError } from '../errors.ts'
import { recordMinSize, type LayoutRecord } from './layout-record.ts'

/** One run of torrent bytes and where it lands on the target. */
export interface Extent {
  torrentOffset: number
  diskOffset: number
  length: number
}

export interface TorrentFileEntry {
  /** Path inside the torrent, the torrent's name first. */
  path: string
  length: number
  /** Offset of the file inside the torrent's byte stream. */
  offset: number
}

export interface Layout {
  extents: Extent[]
  /** The byte just past the last one written: the smallest target that fits. */
  end: number
  /** Total torrent payload. */
  length: number
}

const HEX_OFFSET = /^[0-9a-fA-F]{1,32}$/

/**
 * A single-file torrent is a raw image at offset 0. A multi-file torrent is
 * the partclone layout of ezio upstream and Clonezilla: every file is named by
 * its hexadecimal byte offset on the target, so only used blocks travel.
 * Anything else would need a filesystem to put files in, which a disk cloner
 * does not have. With RECORD (a whole disk made by ezio create --used-blocks),
 * a file's offset is relative to the partition its directory names, or to the
 * disk for the record's disk directory.
 */
export function layoutOf (files: TorrentFileEntry[], multiFile: boolean, record?: LayoutRecord): Layout {
  const length = files.reduce((sum, f) => sum + f.length, 0)
  if (!multiFile) {
    const only = files[0]
    if (!only) throw new EzioError('badTorrent', 'the torrent holds no file: recreate it with ezio create')
    return { extents: [{ torrentOffset: 0, diskOffset: 0, length: only.length }], end: only.length, length }
  }
  const extents: Extent[] = []
  for (const file of files) {
    const base = file.path.split('/').pop() ?? ''
    if (!HEX_OFFSET.test(base)) {
      throw new EzioError('badTorrent', `the torrent's file "${file.path}" is not named by a hexadecimal disk offset: ezio clones raw images (one file) or partclone layouts (files named by offset) only`)
    }
    const offset = Number.parseInt(base, 16)
    if (!Number.isSafeInteger(offset)) throw new EzioError('badTorrent', `the torrent's file "${file.path}" names an offset beyond what a disk can hold`)
    const diskOffset = record ? placeInRecord(record, file, offset) : offset
    if (file.length > 0) extents.push({ torrentOffset: file.offset, diskOffset, length: file.length })
  }
  const sorted = [...extents].sort((a, b) => a.diskOffset - b.diskOffset)
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!
    const cur = sorted[i]!
    if (prev.diskOffset + prev.length > cur.diskOffset) {
      throw new EzioError('badTorrent', `the torrent's runs at disk offsets ${prev.diskOffset} and ${cur.diskOffset} overlap: the torrent is corrupt`)
    }
  }
  const last = sorted[sorted.length - 1]
  const runsEnd = last ? last.diskOffset + last.length : 0
  return { extents, end: record ? Math.max(runsEnd, recordMinSize(record)) : runsEnd, length }
}

function placeInRecord (record: LayoutRecord, file: TorrentFileEntry, offset: number): number {
  const dir = file.path.split('/').slice(-2, -1)[0]
  if (dir !== undefined && dir === record.diskDir) return offset
  const part = record.partitions.find(p => p.dir === dir)
  if (!part) throw new EzioError('badTorrent', `the torrent's file "${file.path}" is in no partition its layout record names: the torrent is corrupt`)
  if (offset + file.length > part.size) {
    throw new EzioError('badTorrent', `the torrent's file "${file.path}" runs past the end of partition ${part.number}: the torrent is corrupt`)
  }
  return part.offset + offset
}

/**
 * The disk runs that hold [start, start + length) of the torrent's stream.
 * EXTENTS are in torrent order (as layoutOf returns them); a binary search
 * finds the first, since a used-blocks torrent can have thousands of runs.
 */
export function* mapRange (extents: Extent[], start: number, length: number): Generator<{ diskOffset: number, bufferOffset: number, length: number }> {
  const end = start + length
  let lo = 0
  let hi = extents.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    const e = extents[mid]!
    if (e.torrentOffset + e.length <= start) lo = mid + 1
    else hi = mid
  }
  for (let i = lo; i < extents.length; i++) {
    const e = extents[i]!
    if (e.torrentOffset >= end) break
    const from = Math.max(start, e.torrentOffset)
    const to = Math.min(end, e.torrentOffset + e.length)
    yield { diskOffset: e.diskOffset + (from - e.torrentOffset), bufferOffset: from - start, length: to - from }
  }
}
