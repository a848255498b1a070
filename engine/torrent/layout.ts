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
  /**
   * A Clonezilla torrent of several partitions (DISK/sda1/<hex>, DISK/sda2/<hex>):
   * offsets are within each partition, whose place only the target's table
   * knows. Until engine/disk/place-partitions.ts has read it, EXTENTS is
   * empty and END is the least any target must hold.
   */
  partitions?: PartitionRuns[]
}

/** The runs of one partition of a Clonezilla torrent, offsets within the partition. */
export interface PartitionRuns {
  /** The directory its files are in, as Linux names the partition: sda2, nvme0n1p2. */
  dir: string
  number: number
  extents: Extent[]
  /** The byte past the last one written, within the partition: the least it must hold. */
  end: number
}

const HEX_OFFSET = /^[0-9a-fA-F]{1,32}$/
// sda2, vdb1, nvme0n1p2, mmcblk0p1: a disk's name, then the partition's number.
const PARTITION_NAME = /^([A-Za-z][A-Za-z0-9]*?[A-Za-z])(\d{1,3})$/

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
  const dirs = new Map<string, Extent[]>()
  for (const file of files) {
    const base = file.path.split('/').pop() ?? ''
    if (!HEX_OFFSET.test(base)) {
      throw new EzioError('badTorrent', `the torrent's file "${file.path}" is not named by a hexadecimal disk offset: ezio clones raw images (one file) or partclone layouts (files named by offset) only`)
    }
    const offset = Number.parseInt(base, 16)
    if (!Number.isSafeInteger(offset)) throw new EzioError('badTorrent', `the torrent's file "${file.path}" names an offset beyond what a disk can hold`)
    const diskOffset = record ? placeInRecord(record, file, offset) : offset
    if (file.length === 0) continue
    const extent = { torrentOffset: file.offset, diskOffset, length: file.length }
    extents.push(extent)
    const inDir = dirs.get(dirOf(file))
    if (inDir) inDir.push(extent)
    else dirs.set(dirOf(file), [extent])
  }
  // One directory is a partition cloned onto the device named as target, as
  // ezio upstream and Clonezilla clone one; several are one disk's partitions.
  if (!record && dirs.size > 1) return partitionsLayout(dirs, length)
  const runsEnd = endOfRuns(extents, 'disk offsets')
  return { extents, end: record ? Math.max(runsEnd, recordMinSize(record)) : runsEnd, length }
}

function dirOf (file: TorrentFileEntry): string {
  return file.path.split('/').slice(-2, -1)[0] ?? ''
}

/** Refuses runs that overlap; the byte past the last one. */
function endOfRuns (extents: Extent[], where: string): number {
  const sorted = [...extents].sort((a, b) => a.diskOffset - b.diskOffset)
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!
    const cur = sorted[i]!
    if (prev.diskOffset + prev.length > cur.diskOffset) {
      throw new EzioError('badTorrent', `the torrent's runs at ${where} ${prev.diskOffset} and ${cur.diskOffset} overlap: the torrent is corrupt`)
    }
  }
  const last = sorted[sorted.length - 1]
  return last ? last.diskOffset + last.length : 0
}

function partitionsLayout (dirs: Map<string, Extent[]>, length: number): Layout {
  const disks = new Set<string>()
  const partitions: PartitionRuns[] = []
  for (const [dir, extents] of dirs) {
    const name = PARTITION_NAME.exec(dir)
    if (!name) {
      throw new EzioError('badTorrent', `the torrent's runs are in several directories, and "${dir}" names no partition (sda1, nvme0n1p2): ezio clones one partition per directory, placed by the target's partition table`)
    }
    disks.add(name[1]!)
    const number = Number(name[2])
    if (number === 0) throw new EzioError('badTorrent', `the torrent's directory "${dir}" names partition 0, which no disk has: the torrent is corrupt`)
    partitions.push({ dir, number, extents, end: endOfRuns(extents, `offsets in ${dir}`) })
  }
  if (disks.size > 1) {
    throw new EzioError('badTorrent', `the torrent holds partitions of ${disks.size} disks (${[...dirs.keys()].sort().join(', ')}): a machine clones one disk; make a torrent for each`)
  }
  partitions.sort((a, b) => a.number - b.number)
  return { extents: [], end: Math.max(...partitions.map(p => p.end)), length, partitions }
}

function placeInRecord (record: LayoutRecord, file: TorrentFileEntry, offset: number): number {
  const dir = dirOf(file)
  if (dir === record.diskDir) return offset
  const part = record.partitions.find(p => p.dir === dir)
  if (!part) throw new EzioError('badTorrent', `the torrent's file "${file.path}" is in no partition its layout record names: the torrent is corrupt`)
  if (offset + file.length > part.size) {
    throw new EzioError('badTorrent', `the torrent's file "${file.path}" runs past the end of partition ${part.number}: the torrent is corrupt`)
  }
  return part.offset + offset
}

/** The layout's disk runs, which a torrent of several partitions has only once placed on a table. */
export function diskExtents (layout: Layout): Extent[] {
  if (layout.partitions) throw new EzioError('internal', 'the torrent\'s partitions were not placed by the disk\'s table before its pieces were mapped to the disk')
  return layout.extents
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
