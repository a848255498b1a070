import { execa } from 'execa'
import path from 'node:path'
import type { Test } from 'tap'
import { blankFile } from './files.ts'
import { withLoopDevice } from './loop.ts'

// Disk images with real partition tables and filesystems, built with the
// system's own tools on files and loop devices (never a real disk).

export interface PartitionSpec {
  bytes: number
  /** sgdisk type code: 8300 Linux, 0700 Microsoft basic data, ef02 BIOS boot... */
  code: string
}

export interface PartitionAt {
  number: number
  offset: number
  size: number
}

/** A sparse GPT disk image of SIZE bytes with PARTS, one after the other from sector 2048. */
export async function gptImage (file: string, size: number, parts: PartitionSpec[]): Promise<PartitionAt[]> {
  await blankFile(file, size)
  const args = parts.flatMap((p, i) => ['-n', `${i + 1}:0:+${p.bytes / 1024}K`, '-t', `${i + 1}:${p.code}`])
  await execa('sgdisk', [...args, file])
  return gptPartitions(file)
}

/** The partitions sgdisk sees on FILE (512-byte sectors). */
export async function gptPartitions (file: string): Promise<PartitionAt[]> {
  const { stdout } = await execa('sgdisk', ['-p', file])
  return stdout.split('\n')
    .map(l => /^\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(m => ({ number: Number(m[1]), offset: Number(m[2]) * 512, size: (Number(m[3]) - Number(m[2]) + 1) * 512 }))
}

/** `sgdisk -v FILE`: whether it found no problem, and what it said. */
export async function sgdiskVerify (file: string): Promise<{ clean: boolean, output: string }> {
  const r = await execa('sgdisk', ['-v', file], { reject: false })
  const output = `${r.stdout}\n${r.stderr}`
  return { clean: r.exitCode === 0 && /No problems found/.test(output), output }
}

/** An ext4 filesystem on PART of FILE holding FILES (local paths, stored under their base names). */
export async function ext4WithFiles (t: Test, file: string, part: PartitionAt, files: string[]): Promise<void> {
  await withLoopDevice(t, file, { offset: part.offset, sizelimit: part.size }, async dev => {
    await execa('mkfs.ext4', ['-q', '-F', dev])
    for (const f of files) await execa('debugfs', ['-w', '-R', `write ${f} ${path.basename(f)}`, dev])
  })
}

/** A FAT32 filesystem on PART of FILE holding FILES. */
export async function fatWithFiles (t: Test, file: string, part: PartitionAt, files: string[]): Promise<void> {
  await withLoopDevice(t, file, { offset: part.offset, sizelimit: part.size }, async dev => {
    await execa('mkfs.vfat', ['-F', '32', dev])
    await execa('mcopy', ['-i', dev, ...files, '::'])
  })
}

/** Copies NAMES out of the ext4 on PART of FILE into DIR. */
export async function ext4Dump (t: Test, file: string, part: PartitionAt, names: string[], dir: string): Promise<void> {
  await withLoopDevice(t, file, { offset: part.offset, sizelimit: part.size }, async dev => {
    for (const n of names) await execa('debugfs', ['-R', `dump ${n} ${path.join(dir, n)}`, dev])
  })
}

/** Copies NAMES out of the FAT on PART of FILE into DIR. */
export async function fatDump (t: Test, file: string, part: PartitionAt, names: string[], dir: string): Promise<void> {
  await withLoopDevice(t, file, { offset: part.offset, sizelimit: part.size }, async dev => {
    for (const n of names) await execa('mcopy', ['-n', '-i', dev, `::${n}`, path.join(dir, n)])
  })
}

/** fsck (read-only, forced) of the ext4 or FAT on PART of FILE: its exit code and output. */
export async function fsck (t: Test, file: string, part: PartitionAt, kind: 'ext4' | 'vfat'): Promise<{ exitCode: number, output: string }> {
  return withLoopDevice(t, file, { offset: part.offset, sizelimit: part.size }, async dev => {
    const r = kind === 'ext4'
      ? await execa('e2fsck', ['-f', '-n', dev], { reject: false })
      : await execa('fsck.vfat', ['-n', dev], { reject: false })
    return { exitCode: r.exitCode ?? -1, output: `${r.stdout}\n${r.stderr}` }
  })
}
