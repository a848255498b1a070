import path from 'node:path'
import { EzioError } from '../errors.ts'
import { inUseBy } from '../disk/mounts.ts'
import { openImage } from '../disk/target.ts'
import { bar, mb, percent } from '../progress/format.ts'
import { createTorrent } from '../torrent/create.ts'
import { encodeLayoutRecord, LAYOUT_KEY } from '../torrent/layout-record.ts'
import { checkPieceSize, choosePieceSize } from '../torrent/piece-size.ts'
import { planUsedBlocks, type UsedBlocksPlan } from '../used-blocks/plan.ts'

export interface UsedBlocksTorrent {
  file: Uint8Array
  plan: UsedBlocksPlan
}

/**
 * A torrent of only the used blocks of a whole disk or a lone partition (see
 * docs/used-blocks-layout.md), with its summary printed on stderr.
 */
export async function makeUsedBlocksTorrent (source: string, opts: { trackers: string[], pieceSize?: number, name?: string, progress?: boolean }): Promise<UsedBlocksTorrent> {
  const image = await openImage(source)
  try {
    if (image.info.size === 0) throw new EzioError('badImage', `image ${source} is empty: give a disk image or a block device with data`)
    const user = await inUseBy(image.info)
    if (user) throw new EzioError('badImage', `${source} is in use (${user}): a mounted filesystem changes under partclone; unmount it first`)
    const name = opts.name ?? path.basename(source)
    const plan = await planUsedBlocks(source, image.handle, image.info, name)
    process.stderr.write(summary(plan))
    if (plan.payload === 0) throw new EzioError('badImage', `${source} holds no used block at all: there is nothing to clone`)
    let pieceLength: number
    try {
      pieceLength = checkPieceSize(opts.pieceSize ?? choosePieceSize(plan.payload))
    } catch (err) {
      throw new EzioError('usage', `ezio create: --piece-size: ${(err as Error).message}`)
    }
    const tty = opts.progress && process.stderr.isTTY
    let lastDraw = 0
    const file = await createTorrent({
      source: image.handle,
      name,
      runs: plan.runs,
      pieceLength,
      announce: opts.trackers,
      extraInfo: { [LAYOUT_KEY]: encodeLayoutRecord(plan.record) },
      onProgress: (done, all) => {
        if (!tty || (Date.now() - lastDraw < 200 && done < all)) return
        lastDraw = Date.now()
        process.stderr.write(`\rhashing ${bar(done, all)} ${percent(done, all)} ${mb(done)}/${mb(all)} MB`)
      }
    }).catch((err: unknown) => {
      throw err instanceof EzioError ? err : new EzioError('badImage', `reading ${source} failed: ${(err as Error).message}`)
    })
    if (tty) process.stderr.write('\n')
    return { file, plan }
  } finally {
    await image.handle.close()
  }
}

function summary (plan: UsedBlocksPlan): string {
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
