import { crc32 } from 'node:zlib'

// GUID Partition Table structures (UEFI spec, chapter 5): the header at LBA 1,
// its entry array, and the same two at the disk's end. Only the fields a
// disk cloner needs are named; the rest is carried as it was.

export const GPT_SIGNATURE = 'EFI PART'

export interface GptHeader {
  headerSize: number
  myLba: bigint
  alternateLba: bigint
  firstUsableLba: bigint
  lastUsableLba: bigint
  entriesLba: bigint
  entryCount: number
  entrySize: number
  entriesCrc: number
}

export interface GptPartition {
  /** 1-based, as Linux numbers them (sda1 is entry 0). */
  number: number
  firstLba: bigint
  lastLba: bigint
}

/** The primary GPT as read from a source disk: enough to rebuild it for any disk size. */
export interface GptImage {
  /** Sector 0: boot code and the protective MBR. */
  mbr: Uint8Array
  /** The primary header's whole sector. */
  header: Uint8Array
  /** The entry array, padded to whole sectors. */
  entries: Uint8Array
}

/** Parses the header in SECTOR; undefined when it is not a GPT header or its CRC is wrong. */
export function parseGptHeader (sector: Uint8Array): GptHeader | undefined {
  const b = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength)
  if (b.length < 92 || b.toString('latin1', 0, 8) !== GPT_SIGNATURE) return undefined
  const headerSize = b.readUInt32LE(12)
  if (headerSize < 92 || headerSize > b.length) return undefined
  const copy = Buffer.from(b.subarray(0, headerSize))
  copy.writeUInt32LE(0, 16)
  if (crc32(copy) !== b.readUInt32LE(16)) return undefined
  const h: GptHeader = {
    headerSize,
    myLba: b.readBigUInt64LE(24),
    alternateLba: b.readBigUInt64LE(32),
    firstUsableLba: b.readBigUInt64LE(40),
    lastUsableLba: b.readBigUInt64LE(48),
    entriesLba: b.readBigUInt64LE(72),
    entryCount: b.readUInt32LE(80),
    entrySize: b.readUInt32LE(84),
    entriesCrc: b.readUInt32LE(88)
  }
  if (h.entrySize < 128 || h.entrySize % 8 !== 0 || h.entryCount === 0 || h.entryCount * h.entrySize > 16 * 1024 * 1024) return undefined
  return h
}

export function entrySectors (h: GptHeader, sectorSize: number): number {
  return Math.ceil((h.entryCount * h.entrySize) / sectorSize)
}

export function entriesMatch (h: GptHeader, entries: Uint8Array): boolean {
  const used = h.entryCount * h.entrySize
  return entries.length >= used && crc32(entries.subarray(0, used)) === h.entriesCrc
}

/** The partitions the entry array holds: every entry with a non-zero type GUID. */
export function gptPartitions (h: GptHeader, entries: Uint8Array): GptPartition[] {
  const b = Buffer.from(entries.buffer, entries.byteOffset, entries.byteLength)
  const out: GptPartition[] = []
  for (let i = 0; i < h.entryCount; i++) {
    const at = i * h.entrySize
    const type = b.subarray(at, at + 16)
    if (type.every(x => x === 0)) continue
    out.push({ number: i + 1, firstLba: b.readBigUInt64LE(at + 32), lastLba: b.readBigUInt64LE(at + 40) })
  }
  return out
}

/** One write of a rebuilt table: BYTES at byte OFFSET of the target. */
export interface TableWrite {
  offset: number
  bytes: Buffer
  what: string
}

/**
 * The GPT of IMAGE rebuilt for a disk of TARGET_BYTES: the partitions and the
 * entries stay as they were; the backup entries and header move to the new
 * end, the last usable LBA keeps its distance from it, the header CRCs are
 * recomputed and the protective MBR is made to cover the new disk. For a
 * target of the source's size this gives back the source's own table.
 */
export function gptForSize (image: GptImage, sectorSize: number, targetBytes: number): TableWrite[] {
  const h = parseGptHeader(image.header)
  if (!h) throw new Error('the recorded GPT header is not valid')
  const ss = BigInt(sectorSize)
  const last = BigInt(Math.floor(targetBytes / sectorSize)) - 1n
  const nEntries = BigInt(entrySectors(h, sectorSize))
  const lastUsable = last - (h.alternateLba - h.lastUsableLba)
  const backupEntriesLba = last - nEntries
  const entries = Buffer.from(image.entries)

  const primary = Buffer.from(image.header)
  primary.writeBigUInt64LE(last, 32)
  primary.writeBigUInt64LE(lastUsable, 48)
  sealHeader(primary, h.headerSize)

  const backup = Buffer.from(primary)
  backup.writeBigUInt64LE(last, 24)
  backup.writeBigUInt64LE(1n, 32)
  backup.writeBigUInt64LE(backupEntriesLba, 72)
  sealHeader(backup, h.headerSize)

  return [
    { offset: 0, bytes: protectiveMbrFor(image.mbr, last + 1n), what: 'protective MBR' },
    { offset: Number(h.myLba * ss), bytes: primary, what: 'primary GPT header' },
    { offset: Number(h.entriesLba * ss), bytes: entries, what: 'primary GPT entries' },
    { offset: Number(backupEntriesLba * ss), bytes: entries, what: 'backup GPT entries' },
    { offset: Number(last * ss), bytes: backup, what: 'backup GPT header' }
  ]
}

/**
 * The smallest disk, in sectors, that the GPT of IMAGE fits on: every
 * partition below the last usable LBA, which keeps its distance from the end.
 */
export function gptMinSectors (image: GptImage): bigint {
  const h = parseGptHeader(image.header)
  if (!h) throw new Error('the recorded GPT header is not valid')
  let lastUsed = h.firstUsableLba - 1n
  for (const p of gptPartitions(h, image.entries)) if (p.lastLba > lastUsed) lastUsed = p.lastLba
  return lastUsed + 1n + (h.alternateLba - h.lastUsableLba)
}

function sealHeader (sector: Buffer, headerSize: number): void {
  sector.writeUInt32LE(0, 16)
  sector.writeUInt32LE(crc32(sector.subarray(0, headerSize)), 16)
}

// The 0xEE entry that covered the whole source disk is stretched (or shrunk)
// to cover the target, as `sgdisk -e` does; the boot code and any hybrid
// entries stay as they were.
function protectiveMbrFor (mbr: Uint8Array, totalSectors: bigint): Buffer {
  const out = Buffer.from(mbr)
  for (let i = 0; i < 4; i++) {
    const at = 446 + i * 16
    if (out[at + 4] !== 0xee) continue
    const first = out.readUInt32LE(at + 8)
    const size = totalSectors - BigInt(first) > 0xffffffffn ? 0xffffffff : Number(totalSectors) - first
    if (size === out.readUInt32LE(at + 12)) continue
    out.writeUInt32LE(size, at + 12)
    chs(first + size - 1).copy(out, at + 5)
  }
  return out
}

// CHS in the conventional 255 heads x 63 sectors geometry; past cylinder 1023
// it saturates to FE FF FF, the value every tool writes there.
function chs (lba: number): Buffer {
  const cyl = Math.floor(lba / (255 * 63))
  if (cyl > 1023) return Buffer.from([0xfe, 0xff, 0xff])
  const head = Math.floor(lba / 63) % 255
  const sector = (lba % 63) + 1
  return Buffer.from([head, ((cyl >> 2) & 0xc0) | sector, cyl & 0xff])
}
