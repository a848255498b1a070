import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { bootSectorCode } from './boot-sector.ts'

const MiB = 1024 * 1024

/**
 * A real disk to deploy: a GPT with one ext4 partition holding files, as a
 * lab image would, and a boot sector that says on the screen and the serial
 * port that the machine booted from it (lab/boot-sector.ts). Made without
 * mounting anything: mke2fs -d fills the filesystem from a directory, dd
 * puts it in place.
 */
export async function makeSampleDisk (file: string, sizeMiB: number, workDir: string): Promise<void> {
  const tree = path.join(workDir, 'sample-tree')
  await fs.rm(tree, { recursive: true, force: true })
  await fs.mkdir(path.join(tree, 'home/student'), { recursive: true })
  await fs.mkdir(path.join(tree, 'etc'), { recursive: true })
  await fs.writeFile(path.join(tree, 'etc/motd'), 'Welcome to the lab. This disk was written by ezio.\n')
  await fs.cp('/usr/share/common-licenses', path.join(tree, 'usr/share/common-licenses'), { recursive: true }).catch(() => {})
  // Some bulk, so that the image has data worth sharing: a third of the disk.
  const bulk = await fs.open(path.join(tree, 'home/student/dataset.bin'), 'w')
  const { randomBytes } = await import('node:crypto')
  for (let i = 0; i < Math.floor(sizeMiB / 3); i++) await bulk.write(randomBytes(MiB))
  await bulk.close()

  const partStart = MiB
  const partSize = (sizeMiB - 2) * MiB
  await fs.rm(file, { force: true })
  await execa('truncate', ['-s', `${sizeMiB}M`, file])
  await execa('sgdisk', ['-o', '-n', `1:2048:+${partSize / 512}`, '-t', '1:8300', '-c', '1:lab-root', file])
  const fsImage = path.join(workDir, 'sample-part.ext4')
  await fs.rm(fsImage, { force: true })
  await execa('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'lab-root', '-d', tree, fsImage, `${partSize / 1024}k`])
  await execa('dd', [`if=${fsImage}`, `of=${file}`, 'bs=1M', `seek=${partStart / MiB}`, 'conv=notrunc,sparse', 'status=none'])
  await fs.rm(fsImage, { force: true })
  await fs.rm(tree, { recursive: true, force: true })
  // Into the protective MBR's code area, before its partition entries (byte 446).
  const disk = await fs.open(file, 'r+')
  await disk.write(bootSectorCode(), 0, undefined, 0)
  await disk.close()
}
