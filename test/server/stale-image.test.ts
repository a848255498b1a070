import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Machine } from '../../server/machines.ts'
import { blankFile, randomImage, tempDir } from '../helpers/files.ts'
import { loopDevice } from '../helpers/loop.ts'
import { waitFor } from '../helpers/net.ts'
import { startServe, type Served } from '../helpers/serve.ts'
import { startEzio } from '../helpers/swarm.ts'

const SIZE = 32 * 1024 * 1024
// Slow enough that the image changes mid-clone.
const ARGS = ['--seed-ratio', '0', '--seed-idle', '0', '--upload-limit', '2']

/** New content for the block device IMAGE, written through it, as another tool rewriting the disk would. */
async function rewrite (image: string): Promise<void> {
  const fd = await fs.open(image, 'r+')
  try {
    for (let at = 0; at < SIZE; at += 4 << 20) await fd.write(randomBytes(4 << 20), 0, 4 << 20, at)
    await fd.sync()
  } finally {
    await fd.close()
  }
}

async function cloning (srv: Served): Promise<void> {
  await waitFor('the machine to be cloning', async () => {
    const m = (await srv.json<Machine[]>('/api/machines'))[0]
    return m && m.bytesDone > 0 && m.bytesDone < SIZE / 2 ? true : undefined
  }, 60_000, 100)
}

async function listedFailed (t: Test, srv: Served, why: RegExp): Promise<void> {
  const m = await waitFor('the machine listed as failed', async () => (await srv.json<Machine[]>('/api/machines')).find(x => x.state === 'failed'), 20_000)
  t.match(m.error, why, 'the dashboard says why')
  t.ok(m.bytesDone < SIZE, 'its clone never reached the end')
}

t.test('a block-device image rewritten under a running server: the machine stops saying the image changed, nothing is reported done', async t => {
  const dir = await tempDir(t)
  const image = await loopDevice(t, await randomImage(path.join(dir, 'lab.img'), SIZE))
  const srv = await startServe(t, image, path.join(dir, 'state'), ARGS)
  t.match(srv.stderr(), /hashing \/dev\/loop\d+ .* at every start: a block device's content can change without its mtime/, 'the start-up says a block device is hashed at every start')
  const boot = startEzio(t, ['boot', srv.url, '--target', await blankFile(path.join(dir, 'pc.disk'), SIZE), '--id', 'pc-1', '--countdown', '0'])
  await cloning(srv)
  await rewrite(image)
  const end = await boot.exited
  t.equal(end.exitCode, 18, 'exit 18: the server\'s image changed')
  t.match(boot.stderr(), /pieces from the seeder at \S+ fail their hash: the server's image changed since its torrent was made/)
  await listedFailed(t, srv, /the server's image changed since its torrent was made/)
})

t.test('a block-device image rewritten while the server is down: the restarted server hashes it again, and the machine mid-clone stops saying so', async t => {
  const dir = await tempDir(t)
  const image = await loopDevice(t, await randomImage(path.join(dir, 'lab.img'), SIZE))
  const state = path.join(dir, 'state')
  const first = await startServe(t, image, state, ARGS)
  const boot = startEzio(t, ['boot', first.url, '--target', await blankFile(path.join(dir, 'pc.disk'), SIZE), '--id', 'pc-1', '--countdown', '0'])
  await cloning(first)
  first.proc.kill('SIGTERM')
  await first.exited
  await rewrite(image)
  const second = await startServe(t, image, state, ARGS, { port: first.port, btPort: first.btPort })
  t.notMatch(second.stderr(), /reusing the torrent/, 'no torrent reused for a block device')
  const end = await boot.exited
  t.equal(end.exitCode, 18, 'exit 18')
  t.match(boot.stderr(), /the server's image changed since pc-1's torrent was made \(that torrent is no longer served\)/)
  await listedFailed(t, second, /the server's image changed since pc-1's torrent was made/)
})
