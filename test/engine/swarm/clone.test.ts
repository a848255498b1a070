import path from 'node:path'
import t from 'tap'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { loopDevice } from '../../helpers/loop.ts'
import { waitFor } from '../../helpers/net.ts'
import { startClone, startSeeder, summaryOf } from '../../helpers/swarm.ts'
import { startTracker } from '../../helpers/tracker.ts'

const SIZE = 64 * 1024 * 1024
const SEED_IDLE = 60

t.test('a seeder and three clones through a tracker: every target is the image, and clones feed each other', async t => {
  const dir = await tempDir(t)
  const tracker = await startTracker(t)
  const image = await randomImage(path.join(dir, 'image.raw'), SIZE)
  const torrent = path.join(dir, 'image.torrent')
  const made = await ezio(['create', image, '-o', torrent, '--tracker', tracker.announce, '--quiet'])
  t.equal(made.exitCode, 0, `ezio create: ${made.stderr}`)
  const want = await sha256(image)

  const fileA = await blankFile(path.join(dir, 'a.raw'), SIZE)
  const fileB = await blankFile(path.join(dir, 'b.raw'), SIZE)
  const loop = await loopDevice(t, await blankFile(path.join(dir, 'c.raw'), SIZE))
  const targets = [fileA, fileB, loop]

  // The clones join first and find each other through the tracker before the
  // seeder exists, as lab machines booting before the operator starts the
  // room. Only then does the seeder come: every clone is already wired to the
  // other two when the first byte arrives, so pieces one clone has fetched are
  // offered to the others at once rather than depending on who announced when.
  const clones = targets.map((target, i) => startClone(t, torrent, target, ['--id', `m${i}`, '--seed-idle', String(SEED_IDLE)]))
  await waitFor('the three clones to see each other', () => clones.every(c => (c.last()?.peers ?? 0) >= 2) ? true : undefined, 30_000)
  await startSeeder(t, torrent, image, ['--skip-verify'])

  const ends = await Promise.all(clones.map(async c => ({ ...await c.exited, at: Date.now() })))
  for (const [i, c] of clones.entries()) {
    const end = ends[i]!
    t.equal(end.exitCode, 0, `clone m${i} exits 0`, { stderr: c.stderr().slice(-2000) })
    const last = c.last()!
    t.equal(last.state, 'done', `clone m${i} ends in state done`)
    t.equal(last.bytesDone, SIZE)
    t.ok(last.fromSeeder + last.fromPeers >= SIZE, `clone m${i} fetched every byte (${last.fromSeeder} from the seeder, ${last.fromPeers} from peers)`)
    t.match(summaryOf(c.stderr()), /^cloned 67\.1 of 67\.1 MB/, `clone m${i} prints its summary`)
  }
  for (const [i, target] of targets.entries()) {
    t.equal(await sha256(target, SIZE), want, `target ${i} (${target}) holds the image byte for byte`)
  }
  const fromPeers = clones.map(c => c.last()!.fromPeers)
  t.ok(fromPeers.some(n => n > 0), `some clone downloaded from another clone (from peers: ${fromPeers.join(', ')})`)
  const uploaded = clones.map(c => c.last()!.uploaded)
  t.ok(uploaded.some(n => n > 0), `some clone uploaded to another (${uploaded.join(', ')})`)
})
