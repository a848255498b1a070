import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { ByteRange } from '../disk/partition-table.ts'
import { findTool, run } from './exec.ts'

/**
 * blkid's TYPE -> the partclone tool that reads it (Debian's partclone
 * 0.3.x); the netboot appliance carries each (build/netboot/capture-tools.sh).
 */
export const partcloneTools: Record<string, string> = {
  ext2: 'extfs',
  ext3: 'extfs',
  ext4: 'extfs',
  ext4dev: 'extfs',
  vfat: 'fat',
  exfat: 'exfat',
  ntfs: 'ntfs',
  xfs: 'xfs',
  btrfs: 'btrfs',
  hfsplus: 'hfsplus',
  f2fs: 'f2fs',
  minix: 'minix',
  apfs: 'apfs',
  reiser4: 'reiser4'
}

/** The partclone executable for filesystem type FS; undefined when partclone does not know it (or is not installed). */
export async function partcloneFor (fsType: string): Promise<string | undefined> {
  const tool = partcloneTools[fsType]
  return tool ? findTool(`partclone.${tool}`) : undefined
}

export type PartcloneMap = { ok: true, runs: ByteRange[] } | { ok: false, reason: string }

/**
 * The used blocks of the filesystem on DEVICE, as byte ranges from its start,
 * from partclone's ddrescue domain log (-D): partclone reads the
 * filesystem's own allocation bitmaps and nothing else, so this costs
 * seconds even on a large disk, and no image is written anywhere.
 */
export async function partcloneUsedBlocks (tool: string, device: string, size: number, workDir: string): Promise<PartcloneMap> {
  const domain = path.join(workDir, `${path.basename(device)}.domain`)
  const log = path.join(workDir, `${path.basename(device)}.log`)
  const r = await run(tool, ['-D', '-q', '-s', device, '-O', domain, '-L', log])
  if (r.code !== 0) return { ok: false, reason: failureReason(r.stderr) || `${path.basename(tool)} exited with ${r.code}` }
  const runs = parseDomainLog(await fs.readFile(domain, 'utf8'))
  const last = runs[runs.length - 1]
  if (last && last.offset + last.length > size) {
    return { ok: false, reason: `it maps blocks up to byte ${last.offset + last.length}, past the partition's ${size} bytes` }
  }
  return { ok: true, runs }
}

/** The "+" (used) ranges of a ddrescue domain log, merged where they touch. */
export function parseDomainLog (text: string): ByteRange[] {
  const runs: ByteRange[] = []
  for (const line of text.split('\n')) {
    const m = /^\s*0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+\+\s*$/.exec(line)
    if (!m) continue
    const offset = Number.parseInt(m[1]!, 16)
    const length = Number.parseInt(m[2]!, 16)
    if (length === 0) continue
    const prev = runs[runs.length - 1]
    if (prev && prev.offset + prev.length === offset) prev.length += length
    else runs.push({ offset, length })
  }
  return runs.sort((a, b) => a.offset - b.offset)
}

// partclone prints progress and banners around the one line that says why.
function failureReason (stderr: string): string {
  const lines = stderr.split('\n').map(l => l.trim()).filter(l => l && !/^Partclone v|^Starting to|partclone\.log|^Partclone fail/.test(l))
  return lines[lines.length - 1]?.replace(/^\S+\.c:\s*/, '') ?? ''
}
