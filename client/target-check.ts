import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { DeviceInfo } from '../engine/disk/device.ts'
import { checkTarget } from '../engine/disk/target.ts'
import { EzioError } from '../engine/errors.ts'
import { notInternal } from './auto-target.ts'

// Optical drives, RAM disks, floppies: no lab image belongs there.
const NOT_A_DISK = /^(sr|ram|zram|fd)\d/

/**
 * Every refusal a target can meet, before the erase warning is shown, so
 * that the operator never confirms a wipe that cannot happen: missing, read
 * only, mounted, too small (engine/disk/target.ts), not a disk; and for a
 * target named by hand, a removable or USB disk unless FORCE. A regular file
 * is never "not a disk": tests and the lab clone onto image files.
 */
export async function checkBootTarget (target: string, needed: number, force: boolean): Promise<DeviceInfo> {
  const info = await checkTarget(target, needed)
  if (info.kind !== 'block' || !info.devno || force) return info
  const dir = `/sys/dev/block/${info.devno}`
  const name = path.basename(await fs.realpath(dir).catch(() => dir))
  if (NOT_A_DISK.test(name)) throw new EzioError('noTarget', `target ${target} (${name}) is not a disk: name the machine's disk with ezio.target= (or --target)`)
  const why = await notInternal(dir)
  if (why) throw new EzioError('noTarget', `target ${target} is a ${why} disk: ezio writes a lab machine's internal disk; add ezio.force=1 (or --force) to write this one anyway`)
  return info
}
