import { EzioError } from '../errors.ts'
import { gptMinSectors, parseGptHeader, type GptImage } from '../disk/gpt.ts'

/**
 * What a used-blocks torrent made by `ezio create --used-blocks` records about
 * its source disk, under the info key `ezio-layout` (inside the info
 * dictionary, so the info hash covers it: it decides where bytes land).
 * docs/used-blocks-layout.md describes it; torrents without it (ezio
 * upstream's, Clonezilla's) keep their offsets relative to the target.
 */
export const LAYOUT_KEY = 'ezio-layout'

/** How a partition's used blocks were found. */
export type BlockSource = 'partclone' | 'nonzero' | 'whole'

export interface PartitionRecord {
  /** The directory its runs are in: files are DIR/<hex offset within the partition>. */
  dir: string
  number: number
  offset: number
  size: number
  /** blkid's TYPE, empty when none was found. */
  fs: string
  blocks: BlockSource
}

export interface LayoutRecord {
  version: 1
  table: 'gpt' | 'mbr' | 'none'
  diskSize: number
  sectorSize: number
  /** The directory of regions outside partitions, named by disk offset; absent for a lone partition. */
  diskDir?: string
  partitions: PartitionRecord[]
  /** The source's GPT, rebuilt for each target after the clone instead of travelling as pieces. */
  gpt?: GptImage
}

export function encodeLayoutRecord (r: LayoutRecord): Record<string, unknown> {
  return {
    version: r.version,
    table: r.table,
    'disk size': r.diskSize,
    'sector size': r.sectorSize,
    ...(r.diskDir === undefined ? {} : { 'disk dir': r.diskDir }),
    partitions: r.partitions.map(p => ({ dir: p.dir, number: p.number, offset: p.offset, size: p.size, fs: p.fs, blocks: p.blocks })),
    ...(r.gpt ? { gpt: { mbr: Buffer.from(r.gpt.mbr), header: Buffer.from(r.gpt.header), entries: Buffer.from(r.gpt.entries) } } : {})
  }
}

/** The record in a torrent's decoded info dictionary; undefined when it has none. */
export function decodeLayoutRecord (info: Record<string, unknown>): LayoutRecord | undefined {
  const raw = info[LAYOUT_KEY]
  if (raw === undefined) return undefined
  const bad = (what: string): EzioError => new EzioError('badTorrent', `the torrent's ${LAYOUT_KEY} record ${what}: the torrent is corrupt or from a newer ezio; recreate it with ezio create --used-blocks`)
  const d = dict(raw)
  if (!d) throw bad('is not a dictionary')
  if (d.version !== 1) throw bad(`has version ${String(d.version)}, not 1`)
  const table = text(d.table)
  if (table !== 'gpt' && table !== 'mbr' && table !== 'none') throw bad(`names an unknown table "${table}"`)
  const diskSize = count(d['disk size'])
  const sectorSize = count(d['sector size'])
  if (diskSize === undefined || !sectorSize) throw bad('lacks the disk or sector size')
  if (!Array.isArray(d.partitions)) throw bad('lacks its partition list')
  const partitions = d.partitions.map((raw: unknown, i): PartitionRecord => {
    const p = dict(raw)
    const blocks = text(p?.blocks)
    const dir = text(p?.dir)
    const [number, offset, size] = [count(p?.number), count(p?.offset), count(p?.size)]
    if (!p || !dir || number === undefined || offset === undefined || size === undefined || (blocks !== 'partclone' && blocks !== 'nonzero' && blocks !== 'whole')) {
      throw bad(`has a malformed partition entry (#${i})`)
    }
    return { dir, number, offset, size, fs: text(p.fs) ?? '', blocks }
  })
  const diskDir = d['disk dir'] === undefined ? undefined : text(d['disk dir'])
  let gpt: GptImage | undefined
  if (d.gpt !== undefined) {
    const g = dict(d.gpt)
    const [mbr, header, entries] = [bytes(g?.mbr), bytes(g?.header), bytes(g?.entries)]
    if (!mbr || !header || !entries || !parseGptHeader(header)) throw bad('holds a GPT that does not parse')
    gpt = { mbr, header, entries }
  }
  return { version: 1, table, diskSize, sectorSize, diskDir, partitions, gpt }
}

/**
 * The smallest target the record's disk fits on: every partition whole (a
 * filesystem needs its whole partition, not just its used blocks) and, for a
 * GPT, room after them for the backup table.
 */
export function recordMinSize (r: LayoutRecord): number {
  const partitionsEnd = Math.max(0, ...r.partitions.map(p => p.offset + p.size))
  if (!r.gpt) return partitionsEnd
  return Math.max(partitionsEnd, Number(gptMinSectors(r.gpt)) * r.sectorSize)
}

function dict (v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) ? v as Record<string, unknown> : undefined
}

/** A bencoded string as text (bencode gives byte strings). */
export function text (v: unknown): string | undefined {
  if (typeof v === 'string') return v
  return v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : undefined
}

function bytes (v: unknown): Uint8Array | undefined {
  return v instanceof Uint8Array ? v : undefined
}

function count (v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined
}
