import { promises as fs } from 'node:fs'
import { EzioError } from '../errors.ts'
import { targetCheck } from '../storage/target-check.ts'
import type { TorrentMeta } from '../torrent/load.ts'
import { describeDevice } from './device.ts'
import { placePartitions } from './place-partitions.ts'
import { checkTargetTable } from './target-table.ts'

export interface VerifyResult {
  /** Indexes of the pieces that do not match. */
  bad: number[]
  /** What of the rebuilt partition table the target does not hold. */
  tableWrong: string[]
}

/** Reads TARGET piece by piece against META's hashes, and its partition table. Reads only. */
export async function verifyTarget (loaded: TorrentMeta, target: string, onProgress?: (done: number, total: number) => void): Promise<VerifyResult> {
  const info = await describeDevice(target).catch((err: Error) => { throw new EzioError('targetMissing', `target ${target}: ${err.message}: name the disk (e.g. /dev/sda) or an image file`) })
  if (!info) throw new EzioError('targetMissing', `target ${target} does not exist`)
  if (info.size < loaded.layout.end) throw new EzioError('targetTooSmall', `target ${target} holds ${info.size} bytes but the image ends at byte ${loaded.layout.end}`)
  const handle = await fs.open(target, 'r').catch((err: Error) => { throw new EzioError('targetMissing', `target ${target} cannot be read (${err.message}): run as root, or check its permissions`) })
  try {
    const meta = await placePartitions(loaded, handle, info, target)
    const check = targetCheck(meta, handle)
    const scratch = Buffer.allocUnsafe(check.scratchLength)
    const bad: number[] = []
    for (let i = 0; i < meta.pieces.length; i++) {
      if (!await check.holds(i, scratch)) bad.push(i)
      onProgress?.(i + 1, meta.pieces.length)
    }
    return { bad, tableWrong: await checkTargetTable(meta.record, handle) }
  } finally {
    await handle.close()
  }
}
