import { promises as fs, constants } from 'node:fs'
import { errnoOf } from '../errors.ts'

export interface DeviceInfo {
  path: string
  kind: 'block' | 'file'
  size: number
  /** "major:minor" of a block device, as /proc and /sys name it. */
  devno?: string
}

/** Kernel's view of a block device, where fs.stat only says size 0. */
export function devnoOf (rdev: number): string {
  // Linux encodes dev_t as major in bits 8-19 (and 32+), minor in 0-7 and 20-31.
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff)
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00)
  return `${major}:${minor}`
}

export async function blockDeviceSize (devno: string): Promise<number> {
  const sectors = await fs.readFile(`/sys/dev/block/${devno}/size`, 'utf8')
  return Number(sectors.trim()) * 512
}

/** The device's logical sector size in bytes, undefined where sysfs does not say. */
export async function logicalSectorSize (devno: string): Promise<number | undefined> {
  const text = await fs.readFile(`/sys/dev/block/${devno}/queue/logical_block_size`, 'utf8').catch(() => '')
  return Number(text.trim()) || undefined
}

/** Stat PATH as an image or a target; undefined when it does not exist. */
export async function describeDevice (path: string): Promise<DeviceInfo | undefined> {
  let st
  try {
    st = await fs.stat(path)
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined
    throw err
  }
  if (st.isBlockDevice()) {
    const devno = devnoOf(st.rdev)
    return { path, kind: 'block', size: await blockDeviceSize(devno), devno }
  }
  if (st.isFile()) return { path, kind: 'file', size: st.size }
  throw new Error(`${path} is neither a block device nor a regular file`)
}

// access(W_OK) says yes to root even for a read-only block device (losetup
// -r, a write-protected card), whose open for writing then succeeds too: the
// kernel's read-only flag is what says no.
export async function isWritable (path: string, info?: DeviceInfo): Promise<boolean> {
  if (info?.devno && (await fs.readFile(`/sys/dev/block/${info.devno}/ro`, 'utf8').catch(() => '0')).trim() === '1') return false
  try {
    await fs.access(path, constants.W_OK)
    return true
  } catch {
    return false
  }
}
