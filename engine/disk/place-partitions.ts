import type { FileHandle } from 'node:fs/promises'
import { EzioError } from '../errors.ts'
import type { Extent } from '../torrent/layout.ts'
import type { TorrentMeta } from '../torrent/load.ts'
import type { DeviceInfo } from './device.ts'
import { readPartitionTable } from './partition-table.ts'

/**
 * A Clonezilla torrent of several partitions says where each run lies within
 * its partition, not on the disk. The disk's own table says where the
 * partitions begin: it was written before the clone, as Clonezilla writes its
 * saved table (sfdisk) before the partitions' blocks. So the table must
 * already be on DISK, with each partition the torrent names and room in each
 * for its runs; else the torrent is refused before a byte is written, since a
 * guess would write one partition's blocks over another's.
 * Every other torrent is returned as it is.
 */
export async function placePartitions (meta: TorrentMeta, disk: FileHandle, info: DeviceInfo, label: string, role: 'target' | 'image' = 'target'): Promise<TorrentMeta> {
  const parts = meta.layout.partitions
  if (!parts) return meta
  const names = parts.map(p => p.dir).join(', ')
  const fix = role === 'target'
    ? `write the image's partition table onto ${label} first (a Clonezilla image keeps it as DISK-pt.sf: sfdisk ${label} < sda-pt.sf), or clone each partition onto its own device`
    : 'seed the whole disk (or disk image) the partitions were saved from, table and all'
  const kind = role === 'target' ? 'tableMismatch' : 'badImage'
  const table = await readPartitionTable(disk, info, label).catch((err: unknown) => {
    throw new EzioError(kind, `the torrent holds partitions ${names}, but the partition table of ${label} cannot be read (${(err as Error).message}): ${fix}`)
  })
  if (table.kind === 'none') throw new EzioError(kind, `the torrent holds partitions ${names}, placed by the disk's partition table, but ${label} has none: ${fix}`)
  const extents: Extent[] = []
  for (const p of parts) {
    const at = table.partitions.find(q => q.number === p.number)
    if (!at) throw new EzioError(kind, `the torrent holds ${p.dir}, but ${label} has no partition ${p.number}: ${fix}`)
    if (p.end > at.size) {
      throw new EzioError(kind, `${p.dir}'s blocks run to byte ${p.end} of the partition, but partition ${p.number} of ${label} holds ${at.size} bytes: ${fix}`)
    }
    for (const e of p.extents) extents.push({ ...e, diskOffset: at.offset + e.diskOffset })
  }
  extents.sort((a, b) => a.torrentOffset - b.torrentOffset)
  const end = extents.reduce((most, e) => Math.max(most, e.diskOffset + e.length), 0)
  return { ...meta, layout: { extents, end, length: meta.layout.length } }
}
