import type { FileHandle } from 'node:fs/promises'
import { EzioError } from '../errors.ts'
import { logicalSectorSize, type DeviceInfo } from './device.ts'
import { entriesMatch, entrySectors, gptPartitions, parseGptHeader, type GptImage } from './gpt.ts'
import { looksLikeMbr, mbrEntries, mbrTable, PROTECTIVE } from './mbr.ts'

export interface Partition {
  /** As Linux numbers it: sda3 is 3. */
  number: number
  /** Byte offset on the disk. */
  offset: number
  size: number
}

export interface ByteRange {
  offset: number
  length: number
}

export interface DiskTable {
  kind: 'gpt' | 'mbr' | 'none'
  sectorSize: number
  /** Sorted by offset. For 'none', the whole device is one partition, numbered 0. */
  partitions: Partition[]
  /** Parts of the table outside every partition that travel as they are (EBRs). */
  tableRanges: ByteRange[]
  /** The GPT, which is rebuilt for each target rather than copied. */
  gpt?: GptImage
  /** Where the source's GPT structures lie: never copied as pieces. */
  gptRanges: ByteRange[]
}

/**
 * Reads the partition table of a disk (or finds none: a bare filesystem).
 * Done here, not by the kernel: the kernel of the machine making the torrent
 * may parse no tables, and an image file has no partition devices anyway.
 */
export async function readPartitionTable (source: FileHandle, info: DeviceInfo, label: string): Promise<DiskTable> {
  const sectorSizes = info.kind === 'block' && info.devno ? [await logicalSectorSize(info.devno) ?? 512] : [512, 4096]
  for (const ss of sectorSizes) {
    const gpt = await readGpt(source, info.size, ss, label)
    if (gpt) return gpt
  }
  const ss = sectorSizes[0]!
  const sector0 = await readAt(source, 0, ss)
  const total = Math.floor(info.size / ss)
  if (looksLikeMbr(sector0, total) && !mbrEntries(sector0).some(e => e.type === PROTECTIVE)) {
    const mbr = await mbrTable(sector0, total, lba => readAt(source, lba * ss, ss))
    const partitions = mbr.partitions.map(p => ({ number: p.number, offset: p.startSector * ss, size: p.sectors * ss }))
    return checked({ kind: 'mbr', sectorSize: ss, partitions, tableRanges: mbr.ebrSectors.map(s => ({ offset: s * ss, length: ss })), gptRanges: [] }, info.size, label)
  }
  if (mbrEntries(sector0).some(e => e.type === PROTECTIVE) && looksLikeMbr(sector0, total)) {
    throw new EzioError('badImage', `${label} has a protective MBR but no valid GPT header: repair the table (gdisk, sgdisk -v) and try again`)
  }
  return { kind: 'none', sectorSize: ss, partitions: [{ number: 0, offset: 0, size: info.size }], tableRanges: [], gptRanges: [] }
}

async function readGpt (source: FileHandle, size: number, ss: number, label: string): Promise<DiskTable | undefined> {
  if (size < ss * 4) return undefined
  const header = await readAt(source, ss, ss)
  const h = parseGptHeader(header)
  if (!h || h.myLba !== 1n) return undefined
  const nEntries = entrySectors(h, ss)
  const entries = await readAt(source, Number(h.entriesLba) * ss, nEntries * ss)
  if (!entriesMatch(h, entries)) {
    throw new EzioError('badImage', `the GPT entries of ${label} do not match their checksum: repair the table (gdisk, sgdisk -v) and try again`)
  }
  const mbr = await readAt(source, 0, ss)
  const partitions = gptPartitions(h, entries)
    .map(p => ({ number: p.number, offset: Number(p.firstLba) * ss, size: Number(p.lastLba - p.firstLba + 1n) * ss }))
  const total = BigInt(Math.floor(size / ss))
  if (h.alternateLba >= total) {
    throw new EzioError('badImage', `the GPT of ${label} places its backup at sector ${h.alternateLba}, beyond the disk's ${total} sectors: the image is cut short`)
  }
  // The backup's own entry array may sit anywhere before it; trust the backup
  // header for where, when it is valid, else assume the usual place.
  const backup = parseGptHeader(await readAt(source, Number(h.alternateLba) * ss, ss))
  const backupEntriesLba = backup ? backup.entriesLba : h.alternateLba - BigInt(nEntries)
  const gptRanges = [
    { offset: 0, length: ss },
    { offset: ss, length: ss },
    { offset: Number(h.entriesLba) * ss, length: nEntries * ss },
    { offset: Number(backupEntriesLba) * ss, length: nEntries * ss },
    { offset: Number(h.alternateLba) * ss, length: ss }
  ]
  return checked({ kind: 'gpt', sectorSize: ss, partitions, tableRanges: [], gpt: { mbr, header, entries }, gptRanges }, size, label)
}

function checked (table: DiskTable, size: number, label: string): DiskTable {
  table.partitions.sort((a, b) => a.offset - b.offset)
  for (const [i, p] of table.partitions.entries()) {
    if (p.size <= 0 || p.offset + p.size > size) {
      throw new EzioError('badImage', `partition ${p.number} of ${label} runs past the disk's end (${p.offset}+${p.size} > ${size}): the image is cut short or its table is wrong`)
    }
    const next = table.partitions[i + 1]
    if (next && p.offset + p.size > next.offset) {
      throw new EzioError('badImage', `partitions ${p.number} and ${next.number} of ${label} overlap: repair the table first`)
    }
  }
  return table
}

export async function readAt (source: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  let got = 0
  while (got < length) {
    const { bytesRead } = await source.read(buf, got, length - got, offset + got)
    if (bytesRead === 0) break
    got += bytesRead
  }
  return buf
}
