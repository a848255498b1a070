import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ext4Dump, ext4WithFiles, fatDump, fatWithFiles, fsck, gptImage, sgdiskVerify } from '../../helpers/disks.ts'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { loopDevice } from '../../helpers/loop.ts'
import { startSeeder } from '../../helpers/swarm.ts'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

// A 1 GiB GPT disk, ext4 about 10 % full and a FAT partition, cloned from
// its used blocks onto a 2 GiB loop device: the filesystems check clean,
// every file is the same, and the GPT is valid for the bigger disk.
t.test('a whole GPT disk travels as its used blocks and clones onto a bigger disk', async t => {
  const dir = await tempDir(t)
  const disk = path.join(dir, 'disk.img')
  const [ext, fat] = await gptImage(disk, GiB, [{ bytes: 640 * MiB, code: '8300' }, { bytes: 256 * MiB, code: '0700' }])
  const extFiles = await Promise.all([1, 2, 3, 4, 5, 6].map(i => randomImage(path.join(dir, `e${i}`), 10 * MiB + i * 4099)))
  const fatFiles = await Promise.all([1, 2].map(i => randomImage(path.join(dir, `f${i}`), 6 * MiB + i * 513)))
  await ext4WithFiles(t, disk, ext!, extFiles)
  await fatWithFiles(t, disk, fat!, fatFiles)

  const torrent = path.join(dir, 'disk.torrent')
  const created = await ezio(['create', disk, '--used-blocks', '-o', torrent])
  t.equal(created.exitCode, 0, created.stderr)
  t.match(created.stderr, /^part1 +ext4, .*\(partclone\)$/m, 'ext4 mapped by partclone')
  t.match(created.stderr, /^part2 +vfat, .*\(partclone\)$/m, 'FAT mapped by partclone')
  t.match(created.stderr, /^disk +1073741824 bytes .*GPT, 2 partitions$/m)
  const payload = Number(/^payload +(\d+) bytes/m.exec(created.stderr)?.[1])
  t.ok(payload > 72 * MiB, `the payload (${payload}) holds at least the files`)
  t.ok(payload < 0.2 * GiB, `the payload (${payload}) is under 20 % of the disk`)
  t.match(created.stderr, /^ratio +\d+\.\d % of the disk$/m)

  const targetFile = await blankFile(path.join(dir, 'target.img'), 2 * GiB)
  const target = await loopDevice(t, targetFile)
  const seeder = await startSeeder(t, torrent, disk)
  const cloned = await ezio(['clone', torrent, target, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'none'], { timeout: 300_000 })
  t.equal(cloned.exitCode, 0, cloned.stderr)

  const table = await sgdiskVerify(targetFile)
  t.ok(table.clean, `sgdisk -v is clean on the 2 GiB disk: ${table.output}`)
  const { stdout: printed } = await execa('sgdisk', ['-p', targetFile])
  t.match(printed, /Disk .*: 4194304 sectors/, 'sgdisk sees the whole 2 GiB disk')
  for (const [part, kind] of [[ext!, 'ext4'], [fat!, 'vfat']] as const) {
    const r = await fsck(t, targetFile, part, kind)
    t.equal(r.exitCode, 0, `fsck of the ${kind} partition passes: ${r.output}`)
  }
  const out = path.join(dir, 'out')
  await fs.mkdir(out)
  await ext4Dump(t, targetFile, ext!, extFiles.map(f => path.basename(f)), out)
  await fatDump(t, targetFile, fat!, fatFiles.map(f => path.basename(f)), out)
  for (const f of [...extFiles, ...fatFiles]) {
    t.equal(await sha256(path.join(out, path.basename(f))), await sha256(f), `${path.basename(f)} is the same on the clone`)
  }

  // The GPT rebuilt for 2 GiB differs from the source's: verify and a
  // resumed clone must take it as it is, not as a bad piece to repair.
  const verified = await ezio(['verify', torrent, target])
  t.equal(verified.exitCode, 0, `verify passes after the table was rebuilt: ${verified.stderr}`)
  const again = await ezio(['clone', torrent, target, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'none'], { timeout: 120_000 })
  t.equal(again.exitCode, 0, again.stderr)
  t.match(again.stderr, /reused from the target, 0\.0 MB from the seeder/, 'a second clone fetches nothing')
  t.ok((await sgdiskVerify(targetFile)).clean, 'the table is still valid for 2 GiB after the second clone')

  // verify does check the table: a broken backup header fails it, and a
  // clone writes it again.
  await execa('dd', ['if=/dev/zero', `of=${target}`, 'bs=512', 'count=1', `seek=${2 * GiB / 512 - 1}`, 'conv=notrunc'])
  const broken = await ezio(['verify', torrent, target])
  t.equal(broken.exitCode, 9, 'verify fails on a broken backup GPT header')
  t.match(broken.stderr, /partition table wrong for this target: backup GPT header/)
  const repaired = await ezio(['clone', torrent, target, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'none'], { timeout: 120_000 })
  t.equal(repaired.exitCode, 0, repaired.stderr)
  t.equal((await ezio(['verify', torrent, target])).exitCode, 0, 'the clone rewrote the table')
})

t.test('a target smaller than the last partition is refused before anything is written', async t => {
  const dir = await tempDir(t)
  const disk = path.join(dir, 'disk.img')
  const [ext] = await gptImage(disk, 256 * MiB, [{ bytes: 200 * MiB, code: '8300' }])
  await ext4WithFiles(t, disk, ext!, [await randomImage(path.join(dir, 'a'), MiB)])
  const torrent = path.join(dir, 'disk.torrent')
  t.equal((await ezio(['create', disk, '--used-blocks', '-o', torrent])).exitCode, 0)
  // Every used block of the ext4 lies in its first few MiB, yet the
  // filesystem needs its whole partition.
  const small = await randomImage(path.join(dir, 'small.img'), 128 * MiB)
  const before = await sha256(small)
  const r = await ezio(['clone', torrent, small, '--peer', '127.0.0.1:9', '--seed-ratio', '0', '--progress', 'none'])
  t.equal(r.exitCode, 6, r.stderr)
  t.match(r.stderr, /image ends at byte \d+/)
  t.equal(await sha256(small), before, 'the target is untouched')
})
