// The DOS partition table: four entries in sector 0, logical partitions in a
// chain of extended boot records (EBRs) inside the extended partition.

export interface MbrEntry {
  status: number
  type: number
  /** In sectors, relative to whatever the table is relative to. */
  start: number
  size: number
}

export interface MbrPartition {
  /** 1-4 for primary partitions, 5 and up for logical ones, as Linux numbers them. */
  number: number
  type: number
  startSector: number
  sectors: number
}

export interface MbrTable {
  partitions: MbrPartition[]
  /** Sector numbers of the EBRs: outside every partition, yet part of the table. */
  ebrSectors: number[]
}

const EXTENDED = new Set([0x05, 0x0f, 0x85])
export const PROTECTIVE = 0xee

export function hasBootSignature (sector: Uint8Array): boolean {
  return sector.length >= 512 && sector[510] === 0x55 && sector[511] === 0xaa
}

export function mbrEntries (sector: Uint8Array): MbrEntry[] {
  const b = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength)
  const out: MbrEntry[] = []
  for (let i = 0; i < 4; i++) {
    const at = 446 + i * 16
    out.push({ status: b[at]!, type: b[at + 4]!, start: b.readUInt32LE(at + 8), size: b.readUInt32LE(at + 12) })
  }
  return out
}

/**
 * Whether SECTOR looks like a partition table rather than the boot sector of
 * a filesystem that fills the whole device (FAT and NTFS also end in 55 AA):
 * a filesystem's boot sector starts with a jump and names itself, and a
 * table's entries have status 00 or 80 and lie inside the disk.
 */
export function looksLikeMbr (sector: Uint8Array, totalSectors: number): boolean {
  if (!hasBootSignature(sector)) return false
  const b = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength)
  const oem = b.toString('latin1', 3, 11)
  const fatLabel = b.toString('latin1', 54, 62) + b.toString('latin1', 82, 90)
  if ((b[0] === 0xeb || b[0] === 0xe9) && (/NTFS|EXFAT|MSDOS|MSWIN|mkfs\.fat|mkdosfs/.test(oem) || /FAT/.test(fatLabel))) return false
  const used = mbrEntries(sector).filter(e => e.type !== 0)
  if (used.length === 0) return false
  return used.every(e => (e.status === 0 || e.status === 0x80) && e.start > 0 && e.size > 0 && e.start + e.size <= totalSectors)
}

/**
 * The partitions of an MBR disk. READ_SECTOR fetches one sector by number,
 * for the EBR chain; a chain that loops or leaves the extended partition
 * ends where it goes wrong, as the kernel's parser does.
 */
export async function mbrTable (sector0: Uint8Array, totalSectors: number, readSector: (lba: number) => Promise<Uint8Array>): Promise<MbrTable> {
  const partitions: MbrPartition[] = []
  const ebrSectors: number[] = []
  const entries = mbrEntries(sector0)
  for (const [i, e] of entries.entries()) {
    if (e.type === 0 || e.size === 0) continue
    if (!EXTENDED.has(e.type)) {
      partitions.push({ number: i + 1, type: e.type, startSector: e.start, sectors: e.size })
      continue
    }
    const extStart = e.start
    const extEnd = e.start + e.size
    let ebr = extStart
    const seen = new Set<number>()
    let number = 5
    while (ebr >= extStart && ebr < extEnd && ebr < totalSectors && !seen.has(ebr) && seen.size < 256) {
      seen.add(ebr)
      const sector = await readSector(ebr)
      if (!hasBootSignature(sector)) break
      ebrSectors.push(ebr)
      const [logical, next] = mbrEntries(sector)
      if (logical && logical.type !== 0 && logical.size > 0 && !EXTENDED.has(logical.type)) {
        partitions.push({ number: number++, type: logical.type, startSector: ebr + logical.start, sectors: logical.size })
      }
      if (!next || next.type === 0 || !EXTENDED.has(next.type)) break
      ebr = extStart + next.start
    }
  }
  return { partitions, ebrSectors }
}
