import path from 'node:path'
import { EzioError } from '../errors.ts'
import { inUseBy } from '../disk/mounts.ts'
import { openImage } from '../disk/target.ts'
import { mb } from '../format.ts'
import { encodeLayoutRecord, LAYOUT_KEY } from './layout-record.ts'
import { planUsedBlocks, type UsedBlocksPlan } from '../used-blocks/plan.ts'
import { hashTorrent, type MakeTorrentOptions } from './hash.ts'

export interface UsedBlocksTorrent {
  file: Uint8Array
  plan: UsedBlocksPlan
}

export interface UsedBlocksOptions extends MakeTorrentOptions {
  /** Told what travels before hashing starts. */
  onPlan?: (summary: string) => void
  /** May refuse the plan (throw) before a used block is read: ezio capture refuses unclean filesystems and asks its server here. */
  checkPlan?: (plan: UsedBlocksPlan) => Promise<void>
  /** The refusal of a disk in use (USER says by what); by default a badImage error. */
  inUse?: (user: string) => EzioError
}

/**
 * A torrent of only the used blocks of a whole disk or a lone partition (see
 * docs/used-blocks-layout.md).
 */
export async function makeUsedBlocksTorrent (source: string, opts: UsedBlocksOptions): Promise<UsedBlocksTorrent> {
  const image = await openImage(source)
  try {
    if (image.info.size === 0) throw new EzioError('badImage', `image ${source} is empty: give a disk image or a block device with data`)
    const user = await inUseBy(image.info)
    if (user) throw opts.inUse?.(user) ?? new EzioError('badImage', `${source} is in use (${user}): a mounted filesystem changes under partclone; unmount it first`)
    const name = opts.name ?? path.basename(source)
    const plan = await planUsedBlocks(source, image.handle, image.info, name)
    opts.onPlan?.(usedBlocksSummary(plan))
    if (plan.payload === 0) throw new EzioError('badImage', `${source} holds no used block at all: there is nothing to clone`)
    await opts.checkPlan?.(plan)
    const file = await hashTorrent({
      source: image.handle,
      sourceName: source,
      name,
      runs: plan.runs,
      trackers: opts.trackers,
      pieceSize: opts.pieceSize,
      extraInfo: { [LAYOUT_KEY]: encodeLayoutRecord(plan.record) },
      progress: opts.progress,
      compress: opts.compress
    })
    return { file, plan }
  } finally {
    await image.handle.close()
  }
}

/** What travels, partition by partition: printed by ezio create before it hashes. */
export function usedBlocksSummary (plan: UsedBlocksPlan): string {
  const { record } = plan
  const lines: string[] = []
  const table = record.table === 'none' ? 'no partition table (a lone partition)' : `${record.table.toUpperCase()}, ${plan.partitions.length} partition${plan.partitions.length === 1 ? '' : 's'}`
  lines.push(`disk     ${record.diskSize} bytes (${mb(record.diskSize)} MB), ${table}`)
  for (const p of plan.partitions) {
    const used = p.runs.reduce((sum, r) => sum + r.length, 0)
    lines.push(`${p.dir.padEnd(8)} ${p.fs || 'unknown'}, ${p.size} bytes at ${p.offset}: ${mb(used)} MB travel (${p.blocks})${p.note ? `; ${p.note}` : ''}`)
  }
  if (plan.diskRuns.length > 0) {
    lines.push(`outside  ${plan.diskRuns.reduce((sum, r) => sum + r.length, 0)} bytes of boot area and table${record.gpt ? ' (the GPT is rebuilt for each target)' : ''}`)
  }
  lines.push(`used     ${plan.usedBytes} bytes (${mb(plan.usedBytes)} MB)`)
  lines.push(`payload  ${plan.payload} bytes (${mb(plan.payload)} MB) in ${plan.runs.length} run${plan.runs.length === 1 ? '' : 's'}`)
  lines.push(`ratio    ${(100 * plan.payload / record.diskSize).toFixed(1)} % of the disk`)
  return lines.join('\n') + '\n'
}
