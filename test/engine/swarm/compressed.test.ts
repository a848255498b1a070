import { promises as fs } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, compressibleImage, sha256, tempDir } from '../../helpers/files.ts'
import { libtorrentDownload, libtorrentSeed } from '../../helpers/libtorrent.ts'
import { freePort, waitFor } from '../../helpers/net.ts'
import { startClone, startSeeder } from '../../helpers/swarm.ts'

const MiB = 1024 * 1024
const SIZE = 48 * MiB

async function made (t: Test): Promise<{ dir: string, image: string, torrent: string, payload: string, payloadBytes: number }> {
  const dir = await tempDir(t)
  const image = await compressibleImage(path.join(dir, 'image.raw'), SIZE)
  const torrent = path.join(dir, 'image.torrent')
  const payload = path.join(dir, 'image.payload')
  const r = await ezio(['create', image, '-o', torrent, '--compress', '--payload', payload, '--piece-size', String(256 * 1024), '--quiet'])
  if (r.exitCode !== 0) throw new Error(r.stderr)
  return { dir, image, torrent, payload, payloadBytes: (await fs.stat(payload)).size }
}

const quiet = ['--seed-ratio', '0', '--progress', 'none']

t.test('a compressed torrent clones from ezio seed, and a clone seeds it on, re-making its pieces from its disk', async t => {
  const { dir, image, torrent, payloadBytes } = await made(t)
  t.ok(payloadBytes < 0.6 * SIZE, `the payload (${payloadBytes} bytes) is well under the image (${SIZE})`)
  const seeder = await startSeeder(t, torrent, image)
  const first = await blankFile(path.join(dir, 'first.raw'), SIZE)
  const a = await ezio(['clone', torrent, first, '--peer', seeder.peer, ...quiet], { timeout: 120_000 })
  t.equal(a.exitCode, 0, a.stderr)
  t.equal(await sha256(first), await sha256(image), 'the first clone holds the image')
  seeder.proc.kill('SIGKILL')

  // A fresh process on the finished disk: nothing kept in memory, every piece it sends is re-made from the disk.
  const port = await freePort()
  const again = startClone(t, torrent, first, ['--bt-port', String(port), '--seed-ratio', '10', '--seed-idle', '60'])
  await waitFor('the first clone to find its disk whole and seed', () => again.last()?.state === 'seeding' ? true : undefined, 60_000, 50)
  t.equal(again.last()?.reused, again.last()?.total, 'the restart found every piece on its disk and fetched nothing')
  const second = await blankFile(path.join(dir, 'second.raw'), SIZE)
  const b = await ezio(['clone', torrent, second, '--peer', `127.0.0.1:${port}`, ...quiet], { timeout: 120_000 })
  t.equal(b.exitCode, 0, b.stderr)
  // Its status comes once a second.
  const sent = await waitFor('the first clone to count what it sent', () => (again.last()?.uploaded ?? 0) >= payloadBytes ? again.last()?.uploaded : undefined, 10_000, 100).catch(() => again.last()?.uploaded)
  t.equal(sent, payloadBytes, 'the first clone sent the second every piece, re-made from its disk')
  t.equal(await sha256(second), await sha256(image), 'the second clone holds the image')
  t.equal((await ezio(['verify', torrent, second])).exitCode, 0, 'ezio verify passes on it')
})

t.test('libtorrent downloads a compressed torrent as a file and seeds it; ezio clones from libtorrent alone', async t => {
  const { dir, image, torrent, payload } = await made(t)
  const seeder = await startSeeder(t, torrent, image, [], '127.0.0.5')
  const mirror = path.join(dir, 'mirror')
  const r = await libtorrentDownload(torrent, mirror, '127.0.0.6', [seeder.peer])
  t.equal(r.exitCode, 0, `libtorrent finished in ${r.seconds} s`, { output: r.output })
  const got = path.join(mirror, 'image.raw', 'image.raw.ezio-zstd')
  t.equal(await sha256(got), await sha256(payload), 'libtorrent\'s file is the payload ezio create wrote')
  seeder.proc.kill('SIGKILL')

  const lt = await libtorrentSeed(t, torrent, mirror, '127.0.0.7')
  const target = await blankFile(path.join(dir, 'target.raw'), SIZE)
  const c = await ezio(['clone', torrent, target, '--peer', lt.peer, ...quiet], { timeout: 120_000 })
  t.equal(c.exitCode, 0, c.stderr)
  t.equal(await sha256(target), await sha256(image), 'the disk holds the image, decompressed')
})

t.test('resume and verify read the raw bytes: a disk with most of the image fetches only the rest; a changed byte fails verify', async t => {
  const { dir, image, torrent, payloadBytes } = await made(t)
  const target = path.join(dir, 'target.raw')
  await fs.copyFile(image, target)
  const fh = await fs.open(target, 'r+')
  await fh.write(Buffer.alloc(5 * MiB, 0x55), 0, 5 * MiB, SIZE - 5 * MiB)
  await fh.close()
  const broken = await ezio(['verify', torrent, target])
  t.equal(broken.exitCode, 9, `verify fails on the changed tenth: ${broken.stderr}`)
  const seeder = await startSeeder(t, torrent, image)
  const c = await ezio(['clone', torrent, target, '--peer', seeder.peer, ...quiet], { timeout: 120_000 })
  t.equal(c.exitCode, 0, c.stderr)
  const fetched = Number(/([\d.]+) MB from the seeder/.exec(c.stderr)?.[1]) * 1e6
  t.ok(fetched < 0.35 * payloadBytes, `fetched ${fetched} of ${payloadBytes} payload bytes`)
  t.equal(await sha256(target), await sha256(image), 'the target holds the image')
  t.equal((await ezio(['verify', torrent, target])).exitCode, 0, 'verify passes')
})
