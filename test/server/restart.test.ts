import t from 'tap'
import path from 'node:path'
import type { Machine } from '../../server/machines.ts'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { waitFor } from '../helpers/net.ts'
import { startServe } from '../helpers/serve.ts'
import { startEzio } from '../helpers/swarm.ts'

const SIZE = 64 * 1024 * 1024

t.test('the server restarts mid-clone: the clones finish and the machines are still listed', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'room.img'), SIZE)
  const state = path.join(dir, 'state')
  const args = ['--seed-ratio', '0', '--upload-limit', '5']
  const first = await startServe(t, image, state, args)
  const targets = [await blankFile(path.join(dir, 'a.disk'), SIZE), await blankFile(path.join(dir, 'b.disk'), SIZE)]
  const boots = targets.map((target, i) => startEzio(t, ['boot', first.url, '--target', target, '--id', `m${i}`, '--countdown', '0']))
  await waitFor('both machines to be a quarter done', async () => {
    const ms = await first.json<Machine[]>('/api/machines')
    return ms.length === 2 && ms.every(m => m.bytesDone > SIZE / 4 && m.bytesDone < SIZE) ? true : undefined
  }, 120_000, 300)
  first.proc.kill('SIGTERM')
  t.equal((await first.exited).exitCode, 0, 'the server stops cleanly')
  await new Promise(resolve => setTimeout(resolve, 3000))

  const second = await startServe(t, image, state, args, { port: first.port, btPort: first.btPort })
  t.match(second.stderr(), /reusing the torrent/, 'no second hash pass')
  const listed = await second.json<Machine[]>('/api/machines')
  t.same(listed.map(m => m.id).sort(), ['m0', 'm1'], 'machines reported before the restart are listed')

  const ends = await Promise.all(boots.map(b => b.exited))
  t.same(ends.map(e => e.exitCode), [0, 0], 'both clones finish')
  const want = await sha256(image)
  for (const target of targets) t.equal(await sha256(target), want)
  const after = await waitFor('both listed as done', async () => {
    const ms = await second.json<Machine[]>('/api/machines')
    return ms.every(m => m.state === 'done') ? ms : undefined
  }, 20_000)
  t.equal(after.length, 2)
})
