import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parseConfig, type CaptureConfig } from '../../protocol/config.ts'
import type { Machine } from '../../server/machines.ts'
import { referenceDisk, type ListedImage } from '../helpers/capture.ts'
import { ext4Dump, gptPartitions } from '../helpers/disks.ts'
import { ezio } from '../helpers/ezio.ts'
import { blankFile, sha256, tempDir } from '../helpers/files.ts'
import { startServe, type Served } from '../helpers/serve.ts'
import { servedInitrd } from '../helpers/served-key.ts'

const MiB = 1024 * 1024
const REF = '52:54:00:aa:00:07'
const OTHER = '52:54:00:aa:00:08'

async function post (srv: Served, route: string, body: unknown, token = srv.operatorToken): Promise<Response> {
  return fetch(`${srv.url}${route}?token=${token}`, { method: 'POST', body: JSON.stringify(body) })
}

async function machine (srv: Served, id: string): Promise<Machine | undefined> {
  return (await srv.json<Machine[]>('/api/machines')).find(m => m.id === id)
}

const mark = (srv: Served, id: string, body: unknown, token?: string): Promise<Response> => post(srv, `/api/machines/${id}/capture`, body, token)

t.test('the operator\'s mark: refused without the token, for a bad name, a command-line image, a name another machine is marked with; its token is for its name only', async t => {
  const dir = await tempDir(t)
  const base = path.join(dir, 'base.img')
  await fs.writeFile(base, Buffer.alloc(MiB, 7))
  const srv = await startServe(t, '', path.join(dir, 'state'), ['--image', `base=${base}`])
  t.equal((await mark(srv, REF, { image: 'lab' }, 'wrong')).status, 403, 'no operator token, no mark')
  t.equal((await mark(srv, REF, { image: '../etc' })).status, 400, 'not an image name')
  t.equal((await mark(srv, REF, { image: 'lab', replace: 'yes' })).status, 400, 'replace is a boolean')
  t.equal((await mark(srv, REF, { image: null })).status, 404, 'unmarking a machine never seen')
  const clash = await mark(srv, REF, { image: 'base' })
  t.equal(clash.status, 409, 'the name of a command-line image')
  t.match(await clash.text(), /base is an image of ezio serve's command line/)

  const ok = await mark(srv, REF, { image: 'lab' })
  t.equal(ok.status, 200, 'a machine not seen yet is marked by its MAC')
  t.same((await machine(srv, REF))?.capture, { image: 'lab', replace: false }, 'and listed with its mark')
  const twice = await mark(srv, OTHER, { image: 'lab' })
  t.equal(twice.status, 409, 'one machine per image name')
  t.match(await twice.text(), /52:54:00:aa:00:07 is marked for capture as lab already/)

  const config = parseConfig(await (await fetch(`${srv.url}/ezio.json?mac=${REF}`)).text(), 'the test') as CaptureConfig
  t.match(config, { capture: 'lab', replace: false, machine: REF, after: 'reboot' }, 'its config says: capture as lab, then reboot')
  t.equal((await machine(srv, REF))?.state, 'capturing', 'listed as capturing')
  const request = { name: 'other', replace: false, usedBytes: MiB, diskSize: 4 * MiB, pieceLength: 262144 }
  const other = await fetch(`${srv.url}/api/captures?token=${config.token}`, { method: 'POST', body: JSON.stringify(request) })
  t.equal(other.status, 403, 'its capture token is good for its own name only')
  t.equal((await mark(srv, REF, { image: null })).status, 200, 'unmarked')
  const gone = await fetch(`${srv.url}/api/captures?token=${config.token}`, { method: 'POST', body: JSON.stringify({ ...request, name: 'lab' }) })
  t.equal(gone.status, 403, 'and once unmarked, not even for that')
  t.equal((await machine(srv, REF))?.capture, null)
})

t.test('a marked machine sends its disk at its next boot, signed for it alone, and then boots that disk; a stored name needs replace; the image deploys to another; a failed capture keeps the mark', async t => {
  const dir = await tempDir(t)
  const ref = await referenceDisk(t, dir, { files: 2, fileMiB: 4 })
  const before = await sha256(ref.disk)
  const srv = await startServe(t, '', path.join(dir, 'state'), ['--seed-idle', '0'])
  const { pinned } = await servedInitrd(srv.url, path.join(dir, 'key'))
  const boot = (id: string, target: string): ReturnType<typeof ezio> =>
    ezio(['boot', srv.url, '--server-key', pinned, '--target', target, '--id', id, '--countdown', '0'], { timeout: 300_000 })
  t.equal((await mark(srv, REF, { image: 'lab' })).status, 200)

  const missing = await boot(REF, path.join(dir, 'no-such-disk'))
  t.not(missing.exitCode, 0, 'a disk that is not there fails the capture')
  const failed = await machine(srv, REF)
  t.match(failed, { state: 'failed', capture: { image: 'lab' } }, 'listed as failed, still marked, so that its next boot tries again')
  t.match(failed?.error, /no-such-disk/, 'with the client\'s reason')

  const captured = await boot(REF, ref.disk)
  t.equal(captured.exitCode, 0, captured.stderr.split('\n').slice(-3).join(' / '))
  t.equal(captured.stdout.trim(), 'reboot', 'then it reboots')
  t.match(captured.stderr, /ezio: the config is signed by .* the server this machine booted from/, 'the capture config is signed for it')
  t.match(captured.stderr, /ezio: capturing \S+reference\.img \(.*\) as image lab on http:\/\/127\.0\.0\.1:\d+: its used blocks are read, nothing on it is changed/, 'it says which disk goes where')
  t.equal(await sha256(ref.disk), before, 'and the disk is unchanged')
  const stored = (await srv.json<ListedImage[]>('/api/images')).find(i => i.name === 'lab')
  t.ok(stored?.stored, 'lab is in the store')
  t.match(await machine(srv, REF), { state: 'done', capture: null, image: 'lab', holds: stored?.infoHash }, 'the machine holds lab, its mark spent')
  const again = await fetch(`${srv.url}/ezio.json?mac=${REF}`)
  t.equal(again.status, 409, 'its next config: it holds its image')
  t.match(await (await fetch(`${srv.url}/boot/boot.ipxe?mac=${REF}`)).text(), /already holds lab, complete: it boots its own disk.*\nexit\n/, 'its next PXE boot goes to its own disk')

  const taken = await mark(srv, OTHER, { image: 'lab' })
  t.equal(taken.status, 409, 'a stored name, without replace')
  t.match(await taken.text(), /the store holds an image named lab already: mark with "replace": true/)
  t.equal((await mark(srv, OTHER, { image: 'lab', replace: true })).status, 200, 'with replace')
  t.equal((await mark(srv, OTHER, { image: null })).status, 200)

  t.equal((await post(srv, `/api/machines/${OTHER}/image`, { image: 'lab' })).status, 200)
  const target = await blankFile(path.join(dir, 'pc.disk'), 300 * MiB)
  const cloned = await boot(OTHER, target)
  t.equal(cloned.exitCode, 0, cloned.stderr.split('\n').slice(-3).join(' / '))
  const [part] = await gptPartitions(target)
  const out = path.join(dir, 'out')
  await fs.mkdir(out)
  const names = ref.files.map(f => path.basename(f))
  await ext4Dump(t, target, part!, names, out)
  for (const f of ref.files) t.equal(await sha256(path.join(out, path.basename(f))), await sha256(f), `${path.basename(f)} came through`)
})
