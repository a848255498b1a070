import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'

const MiB = 1024 * 1024

/**
 * A realistic lab image from this machine's own /usr, no downloads: a GPT
 * disk whose ext4 partition mke2fs -d fills with copies of /usr/bin,
 * /usr/share/doc, /usr/share/man and the largest files of
 * /usr/lib/x86_64-linux-gnu up to LIB_MIB. Free blocks read as zeros, as on
 * a freshly installed disk. TREE keeps the files, to compare a clone's with.
 */
export async function makeUsrDisk (work: string, libMiB: number): Promise<{ disk: string, tree: string, fileBytes: number }> {
  const tree = path.join(work, 'tree')
  await fs.mkdir(path.join(tree, 'usr/share'), { recursive: true })
  for (const dir of ['bin', 'share/doc', 'share/man']) await execa('cp', ['-a', `/usr/${dir}`, path.join(tree, 'usr', dir)])
  const lib = '/usr/lib/x86_64-linux-gnu'
  await fs.mkdir(path.join(tree, 'usr/lib'), { recursive: true })
  const entries = await Promise.all((await fs.readdir(lib)).map(async name => ({ name, st: await fs.lstat(path.join(lib, name)) })))
  let taken = 0
  for (const e of entries.filter(e => e.st.isFile()).sort((a, b) => b.st.size - a.st.size)) {
    if (taken + e.st.size > libMiB * MiB) continue
    await fs.copyFile(path.join(lib, e.name), path.join(tree, 'usr/lib', e.name))
    taken += e.st.size
  }
  const fileBytes = Number((await execa('du', ['-sb', tree])).stdout.split('\t')[0])
  // A third free, as on a lab PC's system partition.
  const partBytes = Math.ceil(fileBytes * 1.5 / MiB) * MiB
  const disk = path.join(work, 'disk.img')
  await execa('truncate', ['-s', String(partBytes + 2 * MiB), disk])
  await execa('sgdisk', ['-o', '-n', `1:2048:+${partBytes / 512}`, '-t', '1:8300', disk])
  const part = path.join(work, 'part.ext4')
  await execa('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', tree, part, `${partBytes / 1024}k`])
  await execa('dd', [`if=${part}`, `of=${disk}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none'])
  await fs.rm(part)
  return { disk, tree, fileBytes }
}
