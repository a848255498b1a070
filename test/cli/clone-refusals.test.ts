import bencode from 'bencode'
import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import t, { type Test } from 'tap'
import { exitCodes } from '../../cli/exit-codes.ts'
import { ezio, type EzioRun } from '../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { loopDevice } from '../helpers/loop.ts'
import { startSeeder, summaryOf } from '../helpers/swarm.ts'

const MiB = 1024 * 1024
const SIZE = 8 * MiB

// Every refusal is one line on stderr, a distinct exit code, and nothing
// written: the target's sha256 is the same before and after.
async function refused (t: Test, args: string[], target: string, code: number, message: RegExp): Promise<EzioRun> {
  const before = await sha256(target).catch(() => 'absent')
  const r = await ezio(['clone', ...args, '--seed-ratio', '0', '--progress', 'none'], { timeout: 60_000 })
  t.equal(r.exitCode, code, `exit code ${code}`, { stderr: r.stderr })
  const lines = r.stderr.trim().split('\n')
  t.equal(lines.length, 1, 'one line on stderr', { stderr: r.stderr })
  t.match(lines[0], message, 'it says what failed and what to do')
  t.equal(await sha256(target).catch(() => 'absent'), before, 'the target is unchanged')
  return r
}

async function imageAndTorrent (t: Test): Promise<{ dir: string, image: string, torrent: string }> {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'image.raw'), SIZE)
  const torrent = path.join(dir, 'image.torrent')
  t.equal((await ezio(['create', image, '-o', torrent, '--piece-size', String(MiB), '--quiet'])).exitCode, 0)
  return { dir, image, torrent }
}

/** A file of SIZE random bytes: a target whose every byte would show a write. */
async function usedTarget (file: string, size = SIZE): Promise<string> {
  return randomImage(file, size)
}

t.test('target missing', async t => {
  const { dir, torrent } = await imageAndTorrent(t)
  const missing = path.join(dir, 'nope.raw')
  await refused(t, [torrent, missing], missing, exitCodes.targetMissing, /^ezio: target .*nope\.raw does not exist: /)
  t.equal(await fs.access(missing).then(() => true, () => false), false, 'no file was created')
})

t.test('target not writable: a read-only loop device', async t => {
  const { dir, torrent } = await imageAndTorrent(t)
  const backing = await usedTarget(path.join(dir, 'ro.raw'))
  const { stdout } = await execa('losetup', ['-f', '--show', '-r', backing])
  const dev = stdout.trim()
  t.teardown(async () => { await execa('losetup', ['-d', dev], { reject: false }) })
  await refused(t, [torrent, dev], dev, exitCodes.targetMissing, new RegExp(`^ezio: target ${dev} (is not writable|cannot be opened for writing)`))
  t.equal(await sha256(backing), await sha256(dev), 'its backing file is unchanged too')
})

t.test('target mounted: a loop device holding a mounted ext4, and the file behind it', async t => {
  const { dir, torrent } = await imageAndTorrent(t)
  const backing = await blankFile(path.join(dir, 'fs.raw'), SIZE)
  const dev = await loopDevice(t, backing)
  await execa('mkfs.ext4', ['-q', '-F', dev])
  const mnt = path.join(dir, 'mnt')
  await fs.mkdir(mnt)
  // Read-only, so that the filesystem itself writes nothing during the test.
  await execa('mount', ['-o', 'ro', dev, mnt])
  t.teardown(async () => { await execa('umount', [mnt], { reject: false }) })
  await refused(t, [torrent, dev], dev, exitCodes.targetMounted, new RegExp(`^ezio: target ${dev} is in use \\(mounted at ${mnt}\\): unmount it first`))
  await refused(t, [torrent, backing], backing, exitCodes.targetMounted, /^ezio: target .*fs\.raw is in use \(mounted at .*\): unmount it first/)
})

t.test('target too small', async t => {
  const { dir, torrent } = await imageAndTorrent(t)
  const small = await usedTarget(path.join(dir, 'small.raw'), SIZE - 4096)
  await refused(t, [torrent, small], small, exitCodes.targetTooSmall, new RegExp(`^ezio: target .*small\\.raw holds ${SIZE - 4096} bytes but the image ends at byte ${SIZE}: `))
  const dev = await loopDevice(t, await usedTarget(path.join(dir, 'small-dev.raw'), SIZE / 2))
  await refused(t, [torrent, dev], dev, exitCodes.targetTooSmall, new RegExp(`^ezio: target ${dev} holds ${SIZE / 2} bytes`))
})

t.test('torrent unreadable or not a torrent', async t => {
  const dir = await tempDir(t)
  const target = await usedTarget(path.join(dir, 'target.raw'))
  await refused(t, [path.join(dir, 'missing.torrent'), target], target, exitCodes.badTorrent, /^ezio: cannot read the torrent .*missing\.torrent: /)
  const garbage = path.join(dir, 'garbage.torrent')
  await fs.writeFile(garbage, randomBytes(4096))
  await refused(t, [garbage, target], target, exitCodes.badTorrent, /^ezio: .*garbage\.torrent is not (a valid torrent|a BitTorrent v1 torrent)/)
})

t.test('torrent of an unknown layout: files not named by disk offsets', async t => {
  const dir = await tempDir(t)
  const target = await usedTarget(path.join(dir, 'target.raw'))
  const a = randomBytes(MiB + 1000)
  const b = randomBytes(MiB - 1000)
  const all = Buffer.concat([a, b])
  const pieces = Buffer.concat([0, 1].map(i => createHash('sha1').update(all.subarray(i * MiB, (i + 1) * MiB)).digest()))
  const torrent = path.join(dir, 'photos.torrent')
  await fs.writeFile(torrent, bencode.encode({
    info: {
      name: 'photos',
      'piece length': MiB,
      pieces,
      private: 1,
      files: [{ length: a.length, path: ['cat.jpg'] }, { length: b.length, path: ['holiday', 'dog.jpg'] }]
    }
  }))
  await refused(t, [torrent, target], target, exitCodes.badTorrent, /^ezio: the torrent's file "photos\/cat\.jpg" is not named by a hexadecimal disk offset: /)
})

t.test('a torrent beyond the bounds (256 MiB or 3 MiB pieces) is refused at load, before anything is allocated', async t => {
  const dir = await tempDir(t)
  const target = await usedTarget(path.join(dir, 'target.raw'))
  for (const [label, pieceLength] of [['256 MiB', 256 * MiB], ['3 MiB', 3 * MiB]] as const) {
    // One piece's hash for a disk of one piece: valid in every other way.
    const torrent = path.join(dir, `${label.replace(' ', '')}.torrent`)
    await fs.writeFile(torrent, bencode.encode({ info: { name: 'disk.img', 'piece length': pieceLength, length: pieceLength, pieces: randomBytes(20), private: 1 } }))
    await refused(t, [torrent, target], target, exitCodes.badTorrent, /^ezio: .* is beyond what a machine loads \(piece length \d+ is not a power of two from 16384 to 16777216 bytes\): recreate it with ezio create$/)
  }
  const created = await ezio(['create', target, '-o', path.join(dir, 'made.torrent'), '--piece-size', String(32 * MiB)])
  t.equal(created.exitCode, exitCodes.usage, 'ezio create refuses to make what clone would refuse')
  t.match(created.stderr, /piece length 33554432 is not a power of two from 16384 to 16777216 bytes/)
  await t.rejects(fs.stat(path.join(dir, 'made.torrent')), 'and writes no torrent')
})

t.test('a write-back error (the disk fails after taking the writes) stops the clone and is never reported as done, nor is the retry', async t => {
  // A loop device over a sparse file on a tmpfs of a quarter of the image: the
  // writes land in the page cache and succeed; the disk fails them only when
  // they are flushed, which the clone does in the background as it goes.
  const dir = await tempDir(t)
  const size = 64 * MiB
  const image = await randomImage(path.join(dir, 'image.raw'), size)
  const torrent = path.join(dir, 'image.torrent')
  t.equal((await ezio(['create', image, '-o', torrent, '--piece-size', String(MiB), '--quiet'])).exitCode, 0)
  const small = path.join(dir, 'tmpfs')
  await fs.mkdir(small)
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${size / 4}`, 'ezio-test-eio', small])
  t.teardown(async () => { await execa('umount', [small], { reject: false }) })
  const dev = await loopDevice(t, await blankFile(path.join(small, 'disk.raw'), size))
  const seeder = await startSeeder(t, torrent, image, ['--skip-verify'])
  // The retry is what init suggests after a failure: the same clone, in the
  // same boot, while the pages that never reached the disk are still cached.
  // The kernel drops a device's pages at its last close; something else
  // holding it open (here the test, as a udev probe or a shell might) keeps them.
  const holder = await fs.open(dev, 'r')
  t.teardown(() => holder.close())
  for (const run of ['the clone', 'the retry']) {
    const r = await ezio(['clone', torrent, dev, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'json'], { timeout: 120_000 })
    t.equal(r.exitCode, exitCodes.writeFailed, `${run}: exit code 7 (write failed)`, { stderr: r.stderr })
    t.match(r.stderr, /^ezio: (writing piece \d+ to the target|flushing the target( to the disk)?) failed \((EIO|ENOSPC)/m, `${run}: the error says the disk failed`, { stderr: r.stderr })
    t.notMatch(r.stderr, /^cloned /m, `${run}: no "cloned" summary`)
    t.notMatch(r.stderr, /"state":"(done|seeding)"/, `${run}: no status ever said done or seeding`)
  }
})

t.test('a write error (ENOSPC) stops the clone and is never reported as done', async t => {
  const { dir, image, torrent } = await imageAndTorrent(t)
  // A small tmpfs holding a sparse target as large as the image: every check
  // passes, and the writes run out of room half-way.
  const small = path.join(dir, 'tmpfs')
  await fs.mkdir(small)
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${SIZE / 2}`, 'ezio-test-enospc', small])
  t.teardown(async () => { await execa('umount', [small], { reject: false }) })
  const target = await blankFile(path.join(small, 'target.raw'), SIZE)
  const seeder = await startSeeder(t, torrent, image, ['--skip-verify'])
  const r = await ezio(['clone', torrent, target, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'json'], { timeout: 60_000 })
  t.equal(r.exitCode, exitCodes.writeFailed, 'exit code 7 (write failed)', { stderr: r.stderr })
  t.match(r.stderr, /^ezio: writing piece \d+ to the target failed \(ENOSPC: /m, 'the error names ENOSPC and says what to do')
  t.notMatch(r.stderr, /^cloned /m, 'no "cloned" summary')
  t.match(summaryOf(r.stderr), /^failed /, 'the summary says failed')
  t.notMatch(r.stderr, /"state":"(done|seeding)"/, 'no status ever said done or seeding')
})
