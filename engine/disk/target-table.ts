import type { Stats } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { EzioError } from '../errors.ts'
import type { LayoutRecord } from '../torrent/layout-record.ts'
import { blockDeviceSize, devnoOf, logicalSectorSize, type DeviceInfo } from './device.ts'
import { gptForSize, type TableWrite } from './gpt.ts'

// This file owns the bytes of a whole disk's GPT (the protective MBR, the
// primary header and entries, the backup entries and header at the target's
// end); the chunk store owns the bytes of the pieces, and the two never
// overlap (docs/used-blocks-layout.md). The machine's clone flow
// (client/clone.ts) calls writeTargetTable once every piece is on the disk.
//
// The GPT of a whole-disk used-blocks torrent never travels as pieces: its
// headers name the disk's last sector, so a copy made for the source disk is
// wrong on any other size. After the pieces are on the target, the table is
// written here, rebuilt for the target's size; verify compares against the
// same rebuild. So neither verify nor a resumed clone sees an adjusted table
// as a bad piece, and there is nothing for them to "repair".

/** Refuses, before anything is written, a target whose sectors differ from the source's. */
export async function checkTargetSectors (record: LayoutRecord | undefined, target: DeviceInfo): Promise<void> {
  if (!record || record.table === 'none' || target.kind !== 'block' || !target.devno) return
  const sectorSize = await logicalSectorSize(target.devno)
  if (sectorSize && sectorSize !== record.sectorSize) {
    throw new EzioError('targetTooSmall', `target ${target.path} has ${sectorSize}-byte sectors but the image's partition table is for ${record.sectorSize}-byte sectors: use a disk with ${record.sectorSize}-byte sectors`)
  }
}

/** Writes the partition table rebuilt for the target's size, when the torrent carries one. */
export async function writeTargetTable (record: LayoutRecord | undefined, disk: FileHandle): Promise<void> {
  const writes = await tableWrites(record, disk)
  for (const w of writes) {
    let done = 0
    while (done < w.bytes.length) {
      const { bytesWritten } = await disk.write(w.bytes, done, w.bytes.length - done, w.offset + done)
      if (bytesWritten === 0) throw new EzioError('writeFailed', `writing the ${w.what} at byte ${w.offset} failed: the disk accepted no bytes`)
      done += bytesWritten
    }
  }
  if (writes.length > 0) await disk.sync()
}

/** What of the rebuilt table the target does not hold: empty when it is all there or the torrent has none. */
export async function checkTargetTable (record: LayoutRecord | undefined, disk: FileHandle): Promise<string[]> {
  const wrong: string[] = []
  for (const w of await tableWrites(record, disk)) {
    const buf = Buffer.alloc(w.bytes.length)
    const { bytesRead } = await disk.read(buf, 0, buf.length, w.offset)
    if (bytesRead !== buf.length || !buf.equals(w.bytes)) wrong.push(w.what)
  }
  return wrong
}

async function tableWrites (record: LayoutRecord | undefined, disk: FileHandle): Promise<TableWrite[]> {
  if (!record?.gpt) return []
  return gptForSize(record.gpt, record.sectorSize, await sizeOf(await disk.stat()))
}

async function sizeOf (st: Stats): Promise<number> {
  return st.isBlockDevice() ? blockDeviceSize(devnoOf(st.rdev)) : st.size
}
