import path from 'node:path'
import t from 'tap'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { libtorrentDownload, libtorrentSeed } from '../../helpers/libtorrent.ts'
import { startSeeder } from '../../helpers/swarm.ts'

const SIZE = 64 * 1024 * 1024

// libtorrent (Debian's python3-libtorrent 2.x) as ezio upstream runs it: TCP
// only, no encryption. Each peer has its own loopback address.
t.test('libtorrent downloads a torrent made by ezio create from ezio seed', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'image.raw'), SIZE)
  const torrent = path.join(dir, 'image.torrent')
  t.equal((await ezio(['create', image, '-o', torrent, '--quiet'])).exitCode, 0)
  const seeder = await startSeeder(t, torrent, image, [], '127.0.0.2')
  const out = path.join(dir, 'lt')
  const r = await libtorrentDownload(torrent, out, '127.0.0.3', [seeder.peer])
  t.equal(r.exitCode, 0, `libtorrent finished in ${r.seconds} s`, { output: r.output })
  t.equal(await sha256(path.join(out, 'image.raw')), await sha256(image), 'what libtorrent wrote is the image')
})

t.test('ezio clone downloads from a libtorrent seeder', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'image.raw'), SIZE)
  const torrent = path.join(dir, 'image.torrent')
  // 4 MiB pieces: not the size ezio create would pick for 64 MiB.
  t.equal((await ezio(['create', image, '-o', torrent, '--piece-size', String(4 * 1024 * 1024), '--quiet'])).exitCode, 0)
  const seeder = await libtorrentSeed(t, torrent, dir, '127.0.0.4')
  const target = await blankFile(path.join(dir, 'target.raw'), SIZE)
  const r = await ezio(['clone', torrent, target, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'none'], { timeout: 90_000 })
  t.equal(r.exitCode, 0, 'the clone ends well', { stderr: r.stderr })
  t.match(r.stderr, /^cloned 67\.1 of 67\.1 MB .* 67\.1 MB from the seeder/m, 'every byte came from libtorrent')
  t.equal(await sha256(target), await sha256(image), 'the target holds the image')
})
