import { EzioError } from '../errors.ts'
import { findTool, run } from './exec.ts'

/**
 * blkid's low-level probe of what SIZE bytes at OFFSET of SOURCE hold (ext4,
 * vfat, swap, crypto_LUKS...): blkid -p reads the device itself, not its
 * cache. Empty when it finds nothing.
 */
export async function probeFsType (source: string, offset: number, size: number): Promise<string> {
  const blkid = await findTool('blkid')
  if (!blkid) throw new EzioError('internal', 'blkid is not installed: install util-linux (Debian: apt-get install util-linux)')
  const r = await run(blkid, ['-p', '-o', 'export', '-O', String(offset), '-S', String(size), source])
  // 2: nothing found; other failures (an ambivalent probe) also leave the type unknown.
  if (r.code !== 0) return ''
  const fields = new Map(r.stdout.split('\n').map(l => l.split('=')).filter(kv => kv.length >= 2).map(([k, ...v]) => [k!, v.join('=')]))
  return fields.get('TYPE') ?? ''
}
