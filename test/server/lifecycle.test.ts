import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import type { Machine } from '../../server/machines.ts'
import { reportToken } from '../../server/tokens.ts'
import { ezio } from '../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { waitFor } from '../helpers/net.ts'
import { startServe, type Served } from '../helpers/serve.ts'
import { startEzio } from '../helpers/swarm.ts'

const SIZE = 4 * 1024 * 1024

async function post (srv: Served, route: string, body?: unknown, token = srv.operatorToken): Promise<Response> {
  return fetch(`${srv.url}${route}?token=${token}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) })
}

async function machine (srv: Served, id: string): Promise<Machine | undefined> {
  return (await srv.json<Machine[]>('/api/machines')).find(m => m.id === id)
}

t.test('admission: with neither --allow nor --accept-all a machine waits, listed as waiting, and clones once the operator accepts it', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), SIZE)
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--seed-ratio', '0'], { acceptAll: false })
  t.match(srv.startLine(), /admission: each new machine waits until the operator accepts it on the dashboard/, 'the start-up line says which admission is on')
  const target = await blankFile(path.join(dir, 'pc1.disk'), SIZE)
  const before = await sha256(target)
  const boot = startEzio(t, ['boot', srv.url, '--target', target, '--id', '52:54:00:AA:00:01', '--countdown', '0'])
  const waiting = await waitFor('the machine to be listed as waiting', async () => {
    const m = await machine(srv, '52:54:00:aa:00:01')
    return m?.state === 'waiting' ? m : undefined
  }, 30_000)
  t.match(waiting.error, /^waiting for the operator to accept this machine \(52:54:00:aa:00:01\) at http:\/\/127\.0\.0\.1:\d+$/, 'listed with why it waits, under its MAC in one spelling')
  await waitFor('the machine to say why it waits', async () => /ezio: waiting for the operator to accept this machine \(52:54:00:aa:00:01\) at http/.test(boot.stderr()) || undefined, 30_000)
  t.equal(boot.proc.exitCode, null, 'it keeps waiting')
  t.equal(await sha256(target), before, 'and writes nothing')

  t.equal((await post(srv, '/api/machines/52:54:00:aa:00:01/accept', undefined, 'wrong')).status, 403, 'no operator token, no accept')
  const res = await post(srv, '/api/machines/52:54:00:aa:00:01/accept')
  t.equal(res.status, 200)
  t.match(await res.json(), { id: '52:54:00:aa:00:01', accepted: true }, 'the answer is the machine\'s new state')
  t.equal((await boot.exited).exitCode, 0, `accepted, it clones: ${boot.stderr().split('\n').slice(-3).join(' / ')}`)
  t.equal(await sha256(target), await sha256(image))
  t.equal((await machine(srv, '52:54:00:aa:00:01'))?.state, 'done')
})

t.test('each boot decided by the server: a complete machine boots its disk (409, iPXE exit) until it is re-imaged; kept across a restart', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), SIZE)
  const state = path.join(dir, 'state')
  const srv = await startServe(t, image, state, ['--seed-ratio', '0'])
  const target = await blankFile(path.join(dir, 'pc2.disk'), SIZE)
  const id = '52:54:00:aa:00:02'
  const boot = (): Promise<{ exitCode: number, stdout: string, stderr: string }> => ezio(['boot', srv.url, '--target', target, '--id', id, '--countdown', '0'])
  const script = async (s: Served): Promise<string> => (await fetch(`${s.url}/boot/boot.ipxe?mac=${id}`)).text()
  t.match(await script(srv), /^kernel http/m, 'a new machine gets the appliance')
  t.equal((await boot()).exitCode, 0, 'it clones')

  const again = await fetch(`${srv.url}/ezio.json?mac=${id}`)
  t.equal(again.status, 409, 'its config, once it is complete: 409')
  t.match(await again.text(), /already holds lab, complete: it boots its own disk; re-image it from the dashboard/)
  const local = await script(srv)
  t.notMatch(local, /kernel/, 'its boot script has no kernel line')
  t.match(local, /^exit$/m, 'it exits to the next boot device')
  const second = await boot()
  t.equal(second.exitCode, 14, 'ezio boot on a complete machine: exit 14')
  t.match(second.stderr, /^ezio: this machine \(52:54:00:aa:00:02\) already holds lab/m)

  srv.proc.kill('SIGTERM')
  await srv.exited
  const restarted = await startServe(t, image, state, ['--seed-ratio', '0'])
  t.notMatch(await script(restarted), /kernel/, 'after a restart, it still boots its disk')
  t.equal((await post(restarted, `/api/machines/${id}/reimage`, undefined, 'nope')).status, 403, 'no token, no re-image')
  t.equal((await post(restarted, '/api/machines/52:54:00:aa:00:99/reimage')).status, 404, 'an unknown machine cannot be re-imaged')
  const res = await post(restarted, `/api/machines/${id}/reimage`)
  t.equal(res.status, 200)
  t.match(await res.json(), { id, holds: null }, 'sent back: its disk no longer counts as holding the image')
  t.match(await script(restarted), /^kernel http/m, 're-imaged: its next boot gets the appliance')
  const third = await ezio(['boot', restarted.url, '--target', target, '--id', id, '--countdown', '0'])
  t.equal(third.exitCode, 0, 'and it clones again')
  t.match(third.stderr, /reused from the target/, 'keeping the pieces already on its disk')
  t.equal((await fetch(`${restarted.url}/ezio.json?mac=${id}`)).status, 409, 'complete again')
  t.equal((await post(restarted, '/api/room/reimage')).status, 200, 'the whole room can be sent back')
  t.equal((await fetch(`${restarted.url}/ezio.json?mac=${id}`)).status, 200)
})

t.test('identity: a machine id is checked, and without ?mac= only --accept-all answers the default config', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), SIZE)
  const open = await startServe(t, image, path.join(dir, 'open'), [])
  t.match(open.startLine(), /admission: every machine that asks is imaged \(--accept-all\)/)
  t.equal((await fetch(`${open.url}/ezio.json`)).status, 200, '--accept-all: /ezio.json without ?mac= is the default image\'s config')
  const strict = await startServe(t, image, path.join(dir, 'strict'), [], { acceptAll: false })
  t.equal((await fetch(`${strict.url}/ezio.json`)).status, 400, 'otherwise the machine must name itself')
  t.equal((await fetch(`${strict.url}/ezio.json?mac=${encodeURIComponent('pc 1;rm')}`)).status, 400, 'an id outside [A-Za-z0-9._:-] is refused')
  t.equal((await fetch(`${strict.url}/ezio.json?mac=${'a'.repeat(65)}`)).status, 400, 'and one over 64 characters')
  t.equal((await fetch(`${strict.url}/ezio.json?mac=room1.pc-07`)).status, 503, 'a name is a machine too: it waits for the operator')
  // The token its config would carry, were it handed one (made as the server makes it).
  const { machine: secret } = JSON.parse(await fs.readFile(path.join(dir, 'strict', 'tokens.json'), 'utf8')) as { machine: string }
  const forged = await fetch(`${strict.url}/api/status?token=${reportToken(secret, 'room1.pc-07')}`, { method: 'POST', body: JSON.stringify({ id: 'room1.pc-07', state: 'cloning', accepted: true, holds: 'ff'.repeat(20) }) })
  t.equal(forged.status, 200, 'a report may carry extra fields')
  t.equal((await fetch(`${strict.url}/ezio.json?mac=room1.pc-07`)).status, 503, 'but a machine cannot accept itself with them: only a report\'s own fields are kept')
  const bad = await ezio(['boot', strict.url, '--id', 'pc 1', '--countdown', '0'])
  t.equal(bad.exitCode, 2, 'ezio boot refuses a bad --id')
  t.equal((await post(strict, '/api/machines/accept')).status, 200, 'accept every waiting machine')
  t.match(await machine(strict, 'room1.pc-07'), { accepted: true })
})
