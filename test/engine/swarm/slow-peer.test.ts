import path from 'node:path'
import t from 'tap'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { libtorrentSeed } from '../../helpers/libtorrent.ts'
import { freePort, waitFor } from '../../helpers/net.ts'
import { startClone, startSeeder } from '../../helpers/swarm.ts'

const SIZE = 64 * 1024 * 1024
const PIECE = 256 * 1024
const LIMIT = 16 * 1024
// What ezio asks of a new peer at once: 32 blocks of 16 KiB.
const ASKED = 32 * 16 * 1024

// ezio takes no block away from a peer it asked (patches/webtorrent:
// _hotswap), so a block out to a slow peer used to be waited for: a slow
// machine holding a room's last pieces held up the room. Here the slow
// peer is libtorrent held to 16 KB/s on 127.0.0.6. The clone starts with it
// alone, which has 32 blocks (half a minute of its upload) asked of it;
// once it has sent some, ezio seed starts at the clone's other --peer
// address and has everything else to give within a second or two.
t.test('blocks out to a peer that sends 16 KB/s are asked again of a fast seeder at the end: the clone does not wait for them', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'image.raw'), SIZE)
  const torrent = path.join(dir, 'image.torrent')
  t.equal((await ezio(['create', image, '-o', torrent, '--piece-size', String(PIECE), '--quiet'])).exitCode, 0)
  const slow = await libtorrentSeed(t, torrent, dir, '127.0.0.6', { uploadLimit: LIMIT })
  const port = await freePort('127.0.0.1')
  const target = await blankFile(path.join(dir, 'target.raw'), SIZE)
  const clone = startClone(t, torrent, target, ['--peer', slow.peer, '--peer', `127.0.0.1:${port}`, '--seed-ratio', '0'])
  await waitFor('the slow peer to send its first blocks', () => slow.uploaded() > 0 || undefined, 60_000, 100)
  const joined = Date.now()
  await startSeeder(t, torrent, image, ['--skip-verify'], '127.0.0.1', port)
  const end = await clone.exited
  const seconds = (Date.now() - joined) / 1000
  t.equal(end.exitCode, 0, 'the clone ends well', { stderr: clone.stderr().slice(-2000) })
  t.equal(await sha256(target), await sha256(image), 'the target holds the image')
  t.comment(`libtorrent sent ${slow.uploaded()} bytes`)
  // webtorrent dials a peer that refused it again after 1 s and 5 s: the
  // seeder is in by 6 s. Waited for, the slow peer's blocks would take 30 s
  // (the request timeout drops it then).
  t.ok(seconds < 15, `done ${seconds.toFixed(1)} s after the seeder started, not after the slow peer's ${(ASKED / LIMIT).toFixed(0)} s`)
  const last = clone.last()!
  const received = last.fromSeeder + last.fromPeers
  t.ok(received <= SIZE + 8 * PIECE, `blocks asked twice are few: ${received} bytes received for ${SIZE}`)
})
