import type { FileHandle } from 'node:fs/promises'
import { EzioError } from '../errors.ts'
import { findTool, run } from '../used-blocks/exec.ts'

/**
 * Drops a block device's cached pages (BLKFLSBUF, through blockdev
 * --flushbufs: Node has no ioctl), so that the resume scan reads the disk.
 * After a write-back error the pages that never reached the disk stay in
 * the page cache looking good; a retry in the same boot would scan them and
 * take pieces for written that are not. A regular file (a test's target, a
 * VM disk image) is left alone: Node cannot drop a file's pages.
 */
export async function dropCachedPages (disk: FileHandle): Promise<void> {
  if (!(await disk.stat()).isBlockDevice()) return
  const blockdev = await findTool('blockdev')
  const fail = (why: string): never => {
    throw new EzioError('writeFailed', `cannot drop the target's cached pages (${why}): a scan could take pages that never reached the disk for written; run ezio as root`)
  }
  if (!blockdev) fail('no blockdev: install util-linux or busybox')
  // The child opens the device through this process's descriptor: the same device, whatever its path.
  const r = await run(blockdev!, ['--flushbufs', `/proc/${process.pid}/fd/${disk.fd}`])
  if (r.code !== 0) fail(`blockdev --flushbufs: ${r.stderr.trim() || `exit ${r.code}`}`)
}
