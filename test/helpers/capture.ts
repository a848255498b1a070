import path from 'node:path'
import type { Test } from 'tap'
import { ext4WithFiles, gptImage, type PartitionAt } from './disks.ts'
import { compressibleImage } from './files.ts'

const MiB = 1024 * 1024

export interface ReferenceDisk {
  disk: string
  part: PartitionAt
  /** The files on its ext4, as local copies. */
  files: string[]
}

/** A reference PC's disk as a file: GPT, one ext4 partition of PARTMIB holding FILES files of about FILEMIB each. */
export async function referenceDisk (t: Test, dir: string, opts: { diskMiB?: number, partMiB?: number, files?: number, fileMiB?: number } = {}): Promise<ReferenceDisk> {
  const disk = path.join(dir, 'reference.img')
  const [part] = await gptImage(disk, (opts.diskMiB ?? 256) * MiB, [{ bytes: (opts.partMiB ?? 200) * MiB, code: '8300' }])
  const files = await Promise.all(Array.from({ length: opts.files ?? 3 }, (_, i) => compressibleImage(path.join(dir, `f${i}`), (opts.fileMiB ?? 8) * MiB + i * 4099, i + 1)))
  await ext4WithFiles(t, disk, part!, files)
  return { disk, part: part!, files }
}

/** What GET /api/images lists. */
export interface ListedImage { name: string, infoHash: string, stored: boolean, default: boolean }

/** What GET /api/captures lists. */
export interface ListedCapture { name: string, state: string, error?: string, received: number, rawDone: number, usedBytes: number }
