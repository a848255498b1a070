// Used blocks against raw: the same GPT disk (ext4 FILL_PCT % full and a
// FAT partition, free space holding old data as on a used disk) made into a
// raw torrent and a used-blocks torrent, each cloned from one ezio seeder
// onto a blank file over loopback. See bench/used-blocks for the knobs.
import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { blankFile, randomImage, sha256 } from '../test/helpers/files.ts'
import { freePort, waitFor } from '../test/helpers/net.ts'
import { bundle, node } from '../test/helpers/paths.ts'
import { children, cleanups, median, runMain } from './run-main.ts'

const MiB = 1024 * 1024
const diskBytes = Number(process.env.DISK_MIB ?? 2048) * MiB
const fillPct = Number(process.env.FILL_PCT ?? 10)
const runs = Number(process.env.RUNS ?? 3)

interface Clone { seconds: number, fromSeeder: number }

async function withLoop<T> (file: string, offset: number, size: number, fn: (dev: string) => Promise<T>): Promise<T> {
  const dev = (await execa('losetup', ['-f', '--show', '-o', String(offset), '--sizelimit', String(size), file])).stdout.trim()
  try {
    return await fn(dev)
  } finally {
    await execa('losetup', ['-d', dev], { reject: false })
  }
}

/** The disk: GPT, 75 % ext4 filled to FILL_PCT with files, 20 % FAT with a few; free blocks keep the random bytes written first. */
async function makeDisk (work: string): Promise<string> {
  const disk = await randomImage(path.join(work, 'disk.img'), diskBytes)
  const extBytes = Math.floor(diskBytes * 0.75 / MiB) * MiB
  const fatBytes = Math.floor(diskBytes * 0.2 / MiB) * MiB
  await execa('sgdisk', ['-n', `1:0:+${extBytes / 1024}K`, '-t', '1:8300', '-n', `2:0:+${fatBytes / 1024}K`, '-t', '2:0700', disk])
  const { stdout } = await execa('sgdisk', ['-p', disk])
  const parts = stdout.split('\n').map(l => /^\s+\d+\s+(\d+)\s+(\d+)\s/.exec(l)).filter((m): m is RegExpExecArray => m !== null)
    .map(m => ({ offset: Number(m[1]) * 512, size: (Number(m[2]) - Number(m[1]) + 1) * 512 }))
  const files = path.join(work, 'files')
  await fs.mkdir(files)
  const fileBytes = 16 * MiB
  await withLoop(disk, parts[0]!.offset, parts[0]!.size, async dev => {
    // nodiscard: mkfs would otherwise punch the old data out of the image.
    await execa('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard', dev])
    const count = Math.max(1, Math.round(extBytes * fillPct / 100 / fileBytes))
    for (let i = 0; i < count; i++) {
      const f = await randomImage(path.join(files, `e${i}`), fileBytes)
      await execa('debugfs', ['-w', '-R', `write ${f} e${i}`, dev])
      await fs.rm(f)
    }
  })
  await withLoop(disk, parts[1]!.offset, parts[1]!.size, async dev => {
    await execa('mkfs.vfat', ['-F', '32', dev])
    const count = Math.max(1, Math.round(fatBytes * fillPct / 100 / fileBytes))
    for (let i = 0; i < count; i++) {
      const f = await randomImage(path.join(files, `f${i}`), fileBytes)
      await execa('mcopy', ['-i', dev, f, '::'])
      await fs.rm(f)
    }
  })
  return disk
}

async function create (disk: string, torrent: string, usedBlocks: boolean): Promise<{ seconds: number, payload: number }> {
  const started = Date.now()
  const r = await execa(node, [bundle, 'create', disk, '-o', torrent, '--quiet', ...(usedBlocks ? ['--used-blocks'] : [])])
  const seconds = (Date.now() - started) / 1000
  if (usedBlocks) process.stderr.write(r.stderr.split('\n').filter(l => !/^wrote /.test(l)).map(l => `  ${l}`).join('\n') + '\n')
  const payload = usedBlocks ? Number(/^payload +(\d+) bytes/m.exec(r.stderr)?.[1]) : diskBytes
  return { seconds, payload }
}

async function seeder (torrent: string, image: string): Promise<string> {
  const port = await freePort()
  const proc = execa(node, [bundle, 'seed', torrent, image, '--skip-verify', '--bt-port', String(port)], { reject: false, stdin: 'ignore', all: true, buffer: false })
  children.push(proc)
  let out = ''
  proc.all?.on('data', (c: Buffer) => { out += c.toString() })
  await waitFor('ezio seed', () => /^seeding .* on port/m.test(out) ? true : undefined, 60_000, 50)
  return `127.0.0.1:${port}`
}

async function clone (torrent: string, peer: string, target: string): Promise<Clone> {
  await fs.rm(target, { force: true })
  await blankFile(target, diskBytes)
  const started = Date.now()
  const r = await execa(node, [bundle, 'clone', torrent, target, '--peer', peer, '--seed-ratio', '0', '--progress', 'none'], { reject: false, timeout: 30 * 60_000 })
  const seconds = (Date.now() - started) / 1000
  if (r.exitCode !== 0) throw new Error(`ezio clone failed (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`)
  const fromSeeder = Number(/([\d.]+) MB from the seeder/.exec(r.stderr)?.[1]) * 1e6
  return { seconds, fromSeeder }
}

/** The used-blocks clone must hold a valid table and clean filesystems, or its time means nothing. */
async function checkUsedClone (target: string): Promise<void> {
  const v = await execa('sgdisk', ['-v', target], { reject: false })
  if (!/No problems found/.test(v.stdout)) throw new Error(`sgdisk -v on the used-blocks clone: ${v.stdout}`)
  const { stdout } = await execa('sgdisk', ['-p', target])
  const parts = stdout.split('\n').map(l => /^\s+\d+\s+(\d+)\s+(\d+)\s/.exec(l)).filter((m): m is RegExpExecArray => m !== null)
  for (const [i, m] of parts.entries()) {
    const offset = Number(m[1]) * 512
    const size = (Number(m[2]) - Number(m[1]) + 1) * 512
    await withLoop(target, offset, size, async dev => {
      const r = i === 0 ? await execa('e2fsck', ['-f', '-n', dev], { reject: false }) : await execa('fsck.vfat', ['-n', dev], { reject: false })
      if (r.exitCode !== 0) throw new Error(`fsck of partition ${i + 1} of the used-blocks clone failed: ${r.stdout}`)
    })
  }
}

async function main (): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ezio-bench-used-'))
  cleanups.push(() => fs.rm(work, { recursive: true, force: true }))
  console.log(`used blocks vs raw: ${diskBytes / MiB} MiB GPT disk (ext4 + FAT, ${fillPct} % full, old data in free space), one ezio seeder -> one ezio clone over loopback, ${runs} runs, medians; ${os.cpus().length} cores`)
  const disk = await makeDisk(work)
  const want = await sha256(disk)
  const rawTorrent = path.join(work, 'raw.torrent')
  const usedTorrent = path.join(work, 'used.torrent')
  const rawMade = await create(disk, rawTorrent, false)
  const usedMade = await create(disk, usedTorrent, true)
  const rawSeed = await seeder(rawTorrent, disk)
  const usedSeed = await seeder(usedTorrent, disk)
  const target = path.join(work, 'target.img')
  const raw: Clone[] = []
  const used: Clone[] = []
  // Interleaved, so that a slow moment of the shared machine hits both.
  for (let i = 0; i < runs; i++) {
    raw.push(await clone(rawTorrent, rawSeed, target))
    if (await sha256(target) !== want) throw new Error('the raw clone differs from the disk')
    used.push(await clone(usedTorrent, usedSeed, target))
    await checkUsedClone(target)
    process.stderr.write(`run ${i + 1}/${runs}: raw ${raw[i]!.seconds.toFixed(1)} s, used blocks ${used[i]!.seconds.toFixed(1)} s\n`)
  }
  const rows = [
    { name: 'raw image', payload: rawMade.payload, create: rawMade.seconds, clone: median(raw.map(c => c.seconds)), sent: median(raw.map(c => c.fromSeeder)) },
    { name: 'used blocks', payload: usedMade.payload, create: usedMade.seconds, clone: median(used.map(c => c.seconds)), sent: median(used.map(c => c.fromSeeder)) }
  ]
  console.log(`${'torrent'.padEnd(12)}  ${'payload MB'.padStart(10)}  ${'sent MB'.padStart(8)}  ${'create s'.padStart(8)}  ${'clone s'.padStart(8)}`)
  for (const r of rows) console.log(`${r.name.padEnd(12)}  ${(r.payload / 1e6).toFixed(1).padStart(10)}  ${(r.sent / 1e6).toFixed(1).padStart(8)}  ${r.create.toFixed(1).padStart(8)}  ${r.clone.toFixed(1).padStart(8)}`)
  const [a, b] = rows as [typeof rows[0], typeof rows[0]]
  console.log(`used / raw: payload ${(b.payload / a.payload).toFixed(3)}, bytes sent ${(b.sent / a.sent).toFixed(3)}, clone time ${(b.clone / a.clone).toFixed(3)} (speed-up ${(a.clone / b.clone).toFixed(1)}x)`)
}

runMain(main)
