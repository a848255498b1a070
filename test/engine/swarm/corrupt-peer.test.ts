import { promises as fs } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { parseStatuses, startSeeder, summaryOf } from '../../helpers/swarm.ts'

const SIZE = 64 * 1024 * 1024
const BLOCK = 16 * 1024

/** A copy of IMAGE with a few bytes flipped at each of OFFSETS. */
async function corruptCopy (image: string, copy: string, offsets: number[]): Promise<void> {
  await fs.copyFile(image, copy)
  const fh = await fs.open(copy, 'r+')
  for (const at of offsets) await fh.write(Buffer.alloc(16, 0xa5), 0, 16, at + 100)
  await fh.close()
}

// Two seeders: a good one on 127.0.0.1 and, on 127.0.0.2 so that a ban by
// address cannot hit the good one, a seeder started with --skip-verify on a
// copy of the image that has corrupt pieces: a real peer sending bad data.
async function cloneBesideABadPeer (t: Test, pieceSize: number, corrupt: (image: string, copy: string) => Promise<void>) {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'image.raw'), SIZE)
  const bad = path.join(dir, 'bad.raw')
  await corrupt(image, bad)
  const torrent = path.join(dir, 'image.torrent')
  t.equal((await ezio(['create', image, '-o', torrent, '--piece-size', String(pieceSize), '--quiet'])).exitCode, 0)
  const good = await startSeeder(t, torrent, image, ['--skip-verify'])
  const liar = await startSeeder(t, torrent, bad, ['--skip-verify'], '127.0.0.2')
  const target = await blankFile(path.join(dir, 'target.raw'), SIZE)
  const r = await ezio(['clone', torrent, target, '--peer', liar.peer, '--peer', good.peer, '--seed-ratio', '0', '--progress', 'json'], { timeout: 90_000 })
  t.equal(r.exitCode, 0, 'the clone ends well', { stderr: r.stderr.slice(-2000) })
  t.equal(await sha256(target), await sha256(image), 'the target holds the image byte for byte')
  const summary = summaryOf(r.stderr) ?? ''
  const rejected = Number(/\((\d+) corrupt pieces from peers rejected/.exec(summary)?.[1] ?? 0)
  t.ok(rejected > 0, `corrupt pieces were received and rejected (${rejected})`, { summary })
  t.match(summary, /banned 127\.0\.0\.2\)/, 'the peer that sent them is banned, the good seeder is not')
  const last = parseStatuses(r.stderr).at(-1)!
  return { rejected, fetched: last.fromSeeder + last.fromPeers }
}

t.test('a peer with a few corrupt pieces: they are rejected, the peer banned, the clone byte-exact', async t => {
  const piece = 1024 * 1024
  const { fetched } = await cloneBesideABadPeer(t, piece, (image, copy) =>
    corruptCopy(image, copy, Array.from({ length: 16 }, (_, i) => i * 4 * piece)))
  t.ok(fetched < SIZE + 16 * piece, `little was fetched twice (${fetched} bytes for ${SIZE})`)
})

t.test('16 MiB pieces and a peer that corrupts every block: the clone ends byte-exact without fetching the image over and over', async t => {
  const { fetched } = await cloneBesideABadPeer(t, 16 * 1024 * 1024, (image, copy) =>
    corruptCopy(image, copy, Array.from({ length: SIZE / BLOCK }, (_, i) => i * BLOCK)))
  // Each piece mixes blocks of both peers: unchecked, nearly every attempt
  // failed and the clone fetched the image six or seven times. Now a piece
  // fails at most twice: mixed, then on parole from the bad peer alone.
  t.ok(fetched <= 3.5 * SIZE, `fetched ${(fetched / SIZE).toFixed(1)} times the image`)
})
