import { promises as fs, constants } from 'node:fs'
import { EzioError, errnoOf } from '../errors.ts'
import { describeDevice, isWritable, type DeviceInfo } from './device.ts'
import { inUseBy } from './mounts.ts'

export interface OpenTarget {
  info: DeviceInfo
  handle: fs.FileHandle
}

/**
 * Every check that can refuse a target runs here, before a single byte is
 * written: missing, not writable, mounted, too small.
 */
export async function checkTarget (path: string, needed: number): Promise<DeviceInfo> {
  const info = await describeDevice(path).catch((err: unknown) => {
    throw new EzioError('targetMissing', `target ${path}: ${(err as Error).message}`)
  })
  if (!info) throw new EzioError('targetMissing', `target ${path} does not exist: name the disk (e.g. /dev/sda) or create the image file first`)
  if (!await isWritable(path, info)) throw new EzioError('targetMissing', `target ${path} is not writable: run as root, check its permissions, or make it writable (blockdev --setrw, the disk's write-protect switch)`)
  const user = await inUseBy(info)
  if (user) throw new EzioError('targetMounted', `target ${path} is in use (${user}): unmount it first; ezio never writes to a mounted disk`)
  if (info.size < needed) {
    throw new EzioError('targetTooSmall', `target ${path} holds ${info.size} bytes but the image ends at byte ${needed}: use a disk of at least ${needed} bytes`)
  }
  return info
}

export async function openTarget (path: string, needed: number): Promise<OpenTarget> {
  const info = await checkTarget(path, needed)
  // O_EXCL on a block device asks the kernel to refuse when anything holds
  // it (a mount that appeared since the check, a partition in use).
  const flags = constants.O_RDWR | (info.kind === 'block' ? constants.O_EXCL : 0)
  try {
    return { info, handle: await fs.open(path, flags) }
  } catch (err) {
    if (errnoOf(err) === 'EBUSY') throw new EzioError('targetMounted', `target ${path} is busy: something holds it open or mounted; unmount it first`)
    throw new EzioError('targetMissing', `target ${path} cannot be opened for writing: ${(err as Error).message}`)
  }
}

export async function openImage (path: string): Promise<OpenTarget> {
  const info = await describeDevice(path).catch((err: unknown) => {
    throw new EzioError('badImage', `image ${path}: ${(err as Error).message}`)
  })
  if (!info) throw new EzioError('badImage', `image ${path} does not exist: give the path of a raw disk image or a block device`)
  try {
    return { info, handle: await fs.open(path, 'r') }
  } catch (err) {
    throw new EzioError('badImage', `image ${path} cannot be read: ${(err as Error).message}`)
  }
}
