import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import parseTorrent from 'parse-torrent'
import t, { type Test } from 'tap'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { waitFor } from '../../helpers/net.ts'
import { startClone, startSeeder, type Clone } from '../../helpers/swarm.ts'
import { startTracker } from '../../helpers/tracker.ts'

const SIZE = 16 * 1024 * 1024

async function setUp (t: Test, announce?: string) {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'image.raw'), SIZE)
  const torrent = path.join(dir, 'image.torrent')
  t.equal((await ezio(['create', image, '-o', torrent, '--quiet', ...(announce ? ['--tracker', announce] : [])])).exitCode, 0)
  const seeder = await startSeeder(t, torrent, image, ['--skip-verify'])
  const target = await blankFile(path.join(dir, 'target.raw'), SIZE)
  return { dir, image, torrent, seeder, target }
}

/** When the clone first said it was seeding, and when it exited, in ms since the epoch. */
async function seedingSpan (clone: Clone): Promise<{ seedingAt: number, exitedAt: number, exitCode: number | undefined }> {
  const seedingAt = await waitFor('the clone to complete', () => {
    if (clone.proc.exitCode !== null) return Date.now()
    return clone.statuses().some(s => s.state === 'seeding') ? Date.now() : undefined
  }, 60_000, 20)
  const { exitCode } = await clone.exited
  return { seedingAt, exitedAt: Date.now(), exitCode }
}

/** A real announce of a machine that the tracker will count as still downloading (or not). */
async function announceOther (announce: string, infoHash: string, peerId: string, event: 'started' | 'completed' | 'stopped', left: number): Promise<void> {
  // Every byte of the hash percent-encoded: escape() left '+', which the tracker
  // reads as a space, and so the announce of a hash holding 0x2b went to another swarm.
  const q = `info_hash=${infoHash.replace(/../g, h => '%' + h)}&peer_id=${encodeURIComponent(peerId)}&port=9&uploaded=0&downloaded=0&left=${left}&event=${event}&compact=1`
  const res = await fetch(`${announce}?${q}`)
  if (!res.ok) throw new Error(`announce failed: HTTP ${res.status}`)
}

t.test('--seed-ratio 0 exits as soon as the clone is complete', async t => {
  const { image, torrent, seeder, target } = await setUp(t)
  const clone = startClone(t, torrent, target, ['--peer', seeder.peer, '--seed-ratio', '0', '--seed-idle', '600'])
  const { exitCode } = await clone.exited
  t.equal(exitCode, 0)
  t.equal(clone.last()?.state, 'done')
  t.ok(clone.statuses().filter(s => s.state === 'seeding').length <= 1, 'it did not stay seeding')
  t.match(clone.stderr(), /^not seeding \(seed ratio 0\)$/m, 'and says so')
  t.equal(await sha256(target), await sha256(image))
})

t.test('the seeding ends when the tracker reports nobody still downloading, not on a timer', async t => {
  const tracker = await startTracker(t)
  const { image, torrent, target } = await setUp(t, tracker.announce)
  // Another machine of the room, still downloading as far as the tracker knows.
  const other = '-XX0001-' + randomBytes(6).toString('hex')
  const { infoHash } = await parseTorrent(await fs.readFile(torrent))
  await announceOther(tracker.announce, infoHash, other, 'started', SIZE)
  const swarm = () => tracker.server.torrents[infoHash]
  t.equal(swarm()?.incomplete, 1, 'the tracker counts the other machine as downloading, in this torrent\'s swarm')
  const clone = startClone(t, torrent, target, ['--seed-idle', '120'])
  const seedingAt = await waitFor('the clone to complete', () => clone.statuses().some(s => s.state === 'seeding') ? Date.now() : undefined, 60_000, 20)
  await new Promise(resolve => setTimeout(resolve, 8000))
  // Said on failure: what the tracker counts, and why the clone says its seeding ended.
  t.equal(clone.proc.exitCode, null, 'it keeps seeding while another machine downloads', {
    tracker: { complete: swarm()?.complete, incomplete: swarm()?.incomplete, peers: swarm()?.peers.keys },
    stderr: clone.stderr().split('\n').slice(-6).join('\n')
  })
  await announceOther(tracker.announce, infoHash, other, 'completed', 0)
  const completedAt = Date.now()
  const { exitCode } = await clone.exited
  const after = (Date.now() - completedAt) / 1000
  t.equal(exitCode, 0)
  t.ok(after < 15, `it ends ${after.toFixed(1)} s after the last machine completed (--seed-idle 120)`)
  t.ok((Date.now() - seedingAt) / 1000 < 60, 'well before --seed-idle')
  t.equal(clone.last()?.state, 'done')
  t.match(clone.stderr(), /^seeded 0:\d\d, until the tracker counted no machine still downloading$/m, 'it says why it stopped seeding')
  // The summary times the clone, not the clone and the 8 s of seeding after it.
  const m = /^cloned .* in (\d+):(\d\d) \(/m.exec(clone.stderr())
  t.ok(m && Number(m[1]) * 60 + Number(m[2]) < 8, `the summary gives the clone's own time (${m?.[0]})`)
  t.equal(await sha256(target), await sha256(image))
})

t.test('--seed-idle ends a seeder nobody asks anything of', async t => {
  // No tracker in the torrent: nothing can say the room is done; and no one
  // downloads from this clone, so only the idle rule can end it.
  const { torrent, seeder, target } = await setUp(t)
  const clone = startClone(t, torrent, target, ['--peer', seeder.peer, '--seed-idle', '4'])
  const { seedingAt, exitedAt, exitCode } = await seedingSpan(clone)
  const idle = (exitedAt - seedingAt) / 1000
  t.equal(exitCode, 0)
  t.ok(idle >= 3 && idle < 10, `it seeded ${idle.toFixed(1)} s with --seed-idle 4`)
  t.equal(clone.last()?.state, 'done')
  t.match(clone.stderr(), /^seeded 0:0\d, until no peer had asked it for anything for its idle time$/m, 'it says why it stopped seeding')
})
