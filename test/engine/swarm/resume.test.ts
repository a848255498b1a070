import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { waitFor } from '../../helpers/net.ts'
import { parseStatuses, startClone, startSeeder, summaryOf } from '../../helpers/swarm.ts'

const SIZE = 64 * 1024 * 1024
const PIECE = 1024 * 1024

t.test('a clone killed half-way fetches only what is missing when started again', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'image.raw'), SIZE)
  const torrent = path.join(dir, 'image.torrent')
  t.equal((await ezio(['create', image, '-o', torrent, '--piece-size', String(PIECE), '--quiet'])).exitCode, 0)
  const target = await blankFile(path.join(dir, 'target.raw'), SIZE)
  const seeder = await startSeeder(t, torrent, image, ['--skip-verify'])

  // The target starts sparse: the blocks the filesystem has allocated to it
  // are what the clone wrote so far, a measure that needs no cooperation from
  // the process about to be killed.
  const first = startClone(t, torrent, target, ['--peer', seeder.peer, '--seed-ratio', '0'])
  await waitFor('the clone to write half the image', async () => {
    if (first.proc.exitCode !== null) throw new Error(`the clone ended before it could be killed: ${first.stderr()}`)
    return (await fs.stat(target)).blocks * 512 >= SIZE / 2 ? true : undefined
  }, 60_000, 5)
  first.proc.kill('SIGKILL')
  t.equal((await first.exited).signal, 'SIGKILL', 'the first clone died by SIGKILL')

  // What the target holds now, by an independent count: ezio verify.
  const before = await ezio(['verify', torrent, target, '--json'])
  const good = (JSON.parse(before.stdout) as { good: number }).good
  t.ok(good > 0 && good < SIZE / PIECE, `the killed clone left part of the image (${good} of ${SIZE / PIECE} pieces)`)

  const again = await ezio(['clone', torrent, target, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'json'], { timeout: 90_000 })
  t.equal(again.exitCode, 0, 'the second clone ends well', { stderr: again.stderr.slice(-2000) })
  const last = parseStatuses(again.stderr).at(-1)!
  t.equal(last.reused, good * PIECE, 'it reuses exactly the pieces the target held')
  const fetched = last.fromSeeder + last.fromPeers
  const missing = SIZE - good * PIECE
  t.ok(fetched >= missing && fetched <= missing + 2 * PIECE, `it fetched only what was missing (${fetched} bytes for ${missing} missing)`)
  t.match(summaryOf(again.stderr), new RegExp(`^cloned 67\\.1 of 67\\.1 MB .*: ${(good * PIECE / 1e6).toFixed(1)} MB reused from the target`), 'the summary says how much was reused')
  t.equal(await sha256(target), await sha256(image), 'the target holds the image')
})

t.test('a target that already holds the image finishes with no peer at all', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'image.raw'), 8 * PIECE)
  const torrent = path.join(dir, 'image.torrent')
  t.equal((await ezio(['create', image, '-o', torrent, '--piece-size', String(PIECE), '--quiet'])).exitCode, 0)
  const target = path.join(dir, 'target.raw')
  await fs.copyFile(image, target)
  // No tracker in the torrent and no --peer: nobody to fetch from.
  const r = await ezio(['clone', torrent, target, '--progress', 'json', '--seed-ratio', '0'], { timeout: 60_000 })
  t.equal(r.exitCode, 0, 'it ends well', { stderr: r.stderr })
  const last = parseStatuses(r.stderr).at(-1)!
  t.equal(last.reused, 8 * PIECE)
  t.equal(last.fromSeeder + last.fromPeers, 0, 'nothing was fetched')
})
