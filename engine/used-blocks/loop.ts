import { EzioError } from '../errors.ts'
import { findTool, run } from './exec.ts'

/**
 * Runs FN with a read-only loop device over SIZE bytes at OFFSET of SOURCE:
 * partclone reads devices, not byte ranges of a disk, and the kernel that
 * makes the torrent may have parsed no partition table (an image file has
 * none it would parse).
 */
export async function withLoopDevice<T> (source: string, offset: number, size: number, fn: (device: string) => Promise<T>): Promise<T> {
  const losetup = await findTool('losetup')
  if (!losetup) throw new EzioError('internal', 'losetup is not installed: install util-linux (Debian: apt-get install util-linux)')
  const r = await run(losetup, ['-f', '--show', '-r', '-o', String(offset), '--sizelimit', String(size), source])
  const device = r.stdout.trim()
  if (r.code !== 0 || !device) {
    throw new EzioError('badImage', `cannot attach a loop device to read ${size} bytes at ${offset} of ${source} (${r.stderr.trim() || `losetup exited with ${r.code}`}): run ezio create --used-blocks as root`)
  }
  try {
    return await fn(device)
  } finally {
    await run(losetup, ['-d', device])
  }
}
