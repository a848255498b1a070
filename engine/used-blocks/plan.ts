import { mkdtemp, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { DeviceInfo } from '../disk/device.ts'
import { readPartitionTable, type ByteRange, type DiskTable, type Partition } from '../disk/partition-table.ts'
import type { SourceRun } from '../torrent/create.ts'
import type { BlockSource, LayoutRecord, PartitionRecord } from '../torrent/layout-record.ts'
import { probeFsType } from './fs-type.ts'
import { withLoopDevice } from './loop.ts'
import { nonZeroRuns } from './nonzero.ts'
import { partcloneFor, partcloneUsedBlocks } from './partclone.ts'
import { subtract, total, union } from './ranges.ts'

/** Boot loaders live in the first MiB (GRUB's core.img after the MBR, for one): it travels whole. */
export const BOOT_AREA = 1024 * 1024
export const DISK_DIR = 'disk'

export interface PartitionPlan extends PartitionRecord {
  /** Used bytes, relative to the partition's start. */
  runs: ByteRange[]
  /** Why the map is not partclone's, when it is not. */
  note?: string
  /** Why partclone could not read it (not cleanly unmounted, damaged): it travels whole. */
  unreadable?: string
}

export interface UsedBlocksPlan {
  record: LayoutRecord
  partitions: PartitionPlan[]
  /** Bytes outside every partition that travel (boot area, EBRs), by disk offset. */
  diskRuns: ByteRange[]
  /** Every run, in disk order, named as the torrent's files. */
  runs: SourceRun[]
  usedBytes: number
  payload: number
}

/**
 * Which bytes of a whole disk or lone partition travel: each partition's used
 * blocks (partclone's map; every non-zero block for a filesystem partclone
 * does not know; the whole partition for one it cannot read), and for a
 * whole disk the boot area and partition table outside the partitions.
 * NAME is the torrent's name, which is a lone partition's directory.
 */
export async function planUsedBlocks (source: string, handle: FileHandle, info: DeviceInfo, name: string): Promise<UsedBlocksPlan> {
  const table = await readPartitionTable(handle, info, source)
  const lone = table.kind === 'none'
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'ezio-create-'))
  const partitions: PartitionPlan[] = []
  try {
    for (const p of table.partitions) {
      partitions.push(await planPartition(source, handle, p, lone ? name : `part${p.number}`, lone, workDir))
    }
  } finally {
    await rm(workDir, { recursive: true, force: true })
  }
  const diskRuns = lone ? [] : outsidePartitions(table, info.size)
  const runs: SourceRun[] = [
    ...diskRuns.map(r => ({ path: [DISK_DIR, hex(r.offset)], sourceOffset: r.offset, length: r.length })),
    ...partitions.flatMap(p => p.runs.map(r => ({ path: lone ? [hex(r.offset)] : [p.dir, hex(r.offset)], sourceOffset: p.offset + r.offset, length: r.length })))
  ].sort((a, b) => a.sourceOffset - b.sourceOffset)
  const record: LayoutRecord = {
    version: 1,
    table: table.kind,
    diskSize: info.size,
    sectorSize: table.sectorSize,
    diskDir: lone ? undefined : DISK_DIR,
    partitions: partitions.map(({ runs: _runs, note: _note, unreadable: _unreadable, ...rec }) => rec),
    gpt: table.gpt
  }
  const usedBytes = partitions.reduce((sum, p) => sum + total(p.runs), 0)
  return { record, partitions, diskRuns, runs, usedBytes, payload: usedBytes + total(diskRuns) }
}

async function planPartition (source: string, handle: FileHandle, p: Partition, dir: string, lone: boolean, workDir: string): Promise<PartitionPlan> {
  const fs = await probeFsType(source, p.offset, p.size)
  const base = { dir, number: p.number, offset: p.offset, size: p.size, fs }
  const plan = (blocks: BlockSource, runs: ByteRange[], note?: string): PartitionPlan => ({ ...base, blocks, runs, ...(note ? { note } : {}) })
  const tool = await partcloneFor(fs)
  if (!tool) {
    const why = fs ? `partclone does not know ${fs}` : 'no filesystem found'
    return plan('nonzero', await nonZeroRuns(handle, p.offset, p.size), `${why}: its non-zero blocks travel`)
  }
  const map = lone
    ? await partcloneUsedBlocks(tool, source, p.size, workDir)
    : await withLoopDevice(source, p.offset, p.size, dev => partcloneUsedBlocks(tool, dev, p.size, workDir))
  if (!map.ok) return { ...plan('whole', [{ offset: 0, length: p.size }], `partclone cannot read it (${map.reason}): the whole partition travels`), unreadable: map.reason }
  return plan('partclone', map.runs)
}

// The boot area and the EBRs of logical partitions, less the partitions and
// the GPT (which is rebuilt for each target, never copied).
function outsidePartitions (table: DiskTable, diskSize: number): ByteRange[] {
  const keep = union([{ offset: 0, length: Math.min(BOOT_AREA, diskSize) }, ...table.tableRanges])
  return subtract(keep, [...table.partitions.map(p => ({ offset: p.offset, length: p.size })), ...table.gptRanges])
}

/** A run's file name: its byte offset in 32 hex digits, as partclone's torrent.info and Clonezilla write it. */
export function hex (offset: number): string {
  return offset.toString(16).padStart(32, '0')
}
