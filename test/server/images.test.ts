import path from 'node:path'
import t from 'tap'
import type { Machine } from '../../server/machines.ts'
import type { ImageInfo } from '../../server/images.ts'
import { ezio } from '../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { startServe } from '../helpers/serve.ts'
import { startEzio } from '../helpers/swarm.ts'

const SIZE = 8 * 1024 * 1024

t.test('several images from one server: each machine clones its own; one tracker refuses any other info hash', async t => {
  const dir = await tempDir(t)
  const win = await randomImage(path.join(dir, 'windows.img'), SIZE)
  const linux = await randomImage(path.join(dir, 'linux.img'), SIZE / 2)
  const srv = await startServe(t, win, path.join(dir, 'state'), ['--name', 'win', '--image', `linux=${linux}`, '--assign', 'pc-2=linux', '--seed-ratio', '0'])
  const images = await srv.json<ImageInfo[]>('/api/images')
  t.match(images, [{ name: 'win', size: SIZE, default: true }, { name: 'linux', size: SIZE / 2, default: false }], 'GET /api/images lists both, the first the default')
  t.ok(images.every(i => /^[0-9a-f]{40}$/.test(i.infoHash)), 'with their info hashes')

  const targets = [await blankFile(path.join(dir, 'pc1.disk'), SIZE), await blankFile(path.join(dir, 'pc2.disk'), SIZE), await blankFile(path.join(dir, 'pc3.disk'), SIZE)]
  const badAssign = await fetch(`${srv.url}/api/machines/pc-3/image?token=${srv.operatorToken}`, { method: 'POST', body: JSON.stringify({ image: 'macos' }) })
  t.equal(badAssign.status, 400, 'an image the server does not have cannot be assigned')
  const assign = await fetch(`${srv.url}/api/machines/pc-3/image?token=${srv.operatorToken}`, { method: 'POST', body: JSON.stringify({ image: 'linux' }) })
  t.match(await assign.json(), { id: 'pc-3', image: 'linux' }, 'the API assigns an image, and answers with the machine')
  const config = await (await fetch(`${srv.url}/ezio.json?mac=pc-2`)).json() as { torrent: string }
  t.match(config.torrent, /\/linux\.torrent$/, 'the config names the machine\'s own image\'s torrent')

  const boots = targets.map((target, i) => startEzio(t, ['boot', srv.url, '--target', target, '--id', `pc-${i + 1}`, '--countdown', '0']))
  const ends = await Promise.all(boots.map(b => b.exited))
  t.same(ends.map(e => e.exitCode), [0, 0, 0], 'all three clone')
  t.equal(await sha256(targets[0]!), await sha256(win), 'pc-1 (no assignment) holds the default image')
  t.equal(await sha256(targets[1]!, SIZE / 2), await sha256(linux), 'pc-2 (--assign) holds linux')
  t.equal(await sha256(targets[2]!, SIZE / 2), await sha256(linux), 'pc-3 (the API) holds linux')
  const machines = await srv.json<Machine[]>('/api/machines')
  t.same(machines.map(m => [m.id, m.state, m.total]).sort(), [['pc-1', 'done', SIZE], ['pc-2', 'done', SIZE / 2], ['pc-3', 'done', SIZE / 2]])

  const announce = async (hash: string): Promise<string> => Buffer.from(await (await fetch(`${srv.url}/announce?info_hash=${hash.replace(/../g, h => '%' + h)}&peer_id=${'%BB'.repeat(20)}&port=6881&uploaded=0&downloaded=0&left=1&compact=1`)).arrayBuffer()).toString('latin1')
  for (const i of images) t.notMatch(await announce(i.infoHash), /failure reason/, `the tracker answers for ${i.name}`)
  t.match(await announce('cc'.repeat(20)), /failure reason.*serves only this server's images/, 'and refuses a third info hash')

  const dup = await ezio(['serve', win, '--image', `windows=${linux}`, '--state', path.join(dir, 'dup'), '--port', '1'])
  t.equal(dup.exitCode, 2, 'two images of one name: a usage error')
  t.match(dup.stderr, /two images are named windows/)
})
