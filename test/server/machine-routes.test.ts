import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import type { Machine } from '../../server/machines.ts'
import { MAX_MACHINES } from '../../server/machines.ts'
import { blankStatus } from '../../protocol/status.ts'
import { randomImage, tempDir } from '../helpers/files.ts'
import { startServe } from '../helpers/serve.ts'

t.test('a report is bound to the machine whose config carried its token; ids never handed a config are not stored', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), 1024 * 1024)
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--seed-ratio', '0'])
  const configOf = async (id: string): Promise<{ report: string }> => await (await fetch(`${srv.url}/ezio.json?mac=${id}`)).json() as { report: string }
  const a = await configOf('pc-a')
  const b = await configOf('pc-b')
  t.not(a.report, b.report, 'each machine\'s config has a token of its own')
  const post = (url: string, body: unknown): Promise<Response> => fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) })

  t.equal((await post(a.report, blankStatus('pc-a', 'cloning', 100))).status, 200, 'pc-a reports with its own token')
  const stolen = await post(a.report, { ...blankStatus('pc-b', 'failed', 100), error: 'forged' })
  t.equal(stolen.status, 403, 'pc-a\'s token for pc-b: 403')
  t.match(await stolen.text(), /^this token is not pc-b's/)
  const made = await post(a.report, blankStatus('pc-never', 'done', 100))
  t.equal(made.status, 403, 'a made-up id with a stolen token: 403')
  const url = new URL(a.report)
  url.searchParams.set('token', 'f'.repeat(32))
  t.equal((await post(url.href, blankStatus('pc-a', 'done', 100))).status, 403, 'a guessed token: 403')
  url.searchParams.delete('token')
  t.equal((await post(url.href, blankStatus('pc-a', 'done', 100))).status, 403, 'no token: 403')
  const anyone = await (await fetch(`${srv.url}/ezio.json`)).json() as { report: string }
  t.equal((await post(anyone.report, blankStatus('pc-c', 'done', 100))).status, 403, 'the token of the config that names no machine speaks for none')
  const huge = await post(a.report, JSON.stringify({ ...blankStatus('pc-a', 'cloning', 100), error: 'x'.repeat(100_000) }))
  t.equal(huge.status, 413, 'a body over 64 KiB: 413')
  for (const bad of ['{', '[]', '"cloning"', JSON.stringify({ id: 'pc a', state: 'done' })]) {
    t.equal((await post(a.report, bad)).status, 400, `refused: ${bad.slice(0, 30)}`)
  }

  const machines = await srv.json<Machine[]>('/api/machines')
  t.same(machines.map(m => m.id).sort(), ['pc-a', 'pc-b'], 'only the machines that fetched a config are listed')
  t.equal(machines.find(m => m.id === 'pc-b')?.error, null, 'pc-b is untouched by the forged report')
  t.equal(machines.find(m => m.id === 'pc-a')?.state, 'cloning', 'pc-a is as its own report left it')
})

t.test('a flood of new ids: bounded, answered 503 past the bound, while known machines and the list go on', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), 1024 * 1024)
  const state = path.join(dir, 'state')
  const srv = await startServe(t, image, state, ['--seed-ratio', '0'])
  const known = await (await fetch(`${srv.url}/ezio.json?mac=pc-known`)).json() as { report: string }
  const statuses = new Map<number, number>()
  for (let i = 0; i < MAX_MACHINES + 50; i += 32) {
    const codes = await Promise.all(Array.from({ length: 32 }, async (_, k) => (await fetch(`${srv.url}/boot/boot.ipxe?mac=flood-${i + k}`)).status))
    for (const c of codes) statuses.set(c, (statuses.get(c) ?? 0) + 1)
  }
  t.same([...statuses.keys()].sort(), [200, 503], `answers ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.equal(statuses.get(200), MAX_MACHINES - 1, `${MAX_MACHINES} machines known at most`)
  const res = await fetch(`${srv.url}/ezio.json?mac=flood-new`)
  t.equal(res.status, 503)
  t.match(await res.text(), /already knows 2048 machines: flood-new is not taken on/)
  t.equal((await fetch(known.report, { method: 'POST', body: JSON.stringify(blankStatus('pc-known', 'cloning', 10)) })).status, 200, 'a known machine still reports')
  t.equal((await fetch(`${srv.url}/ezio.json?mac=pc-known`)).status, 200, 'and still gets its config')
  t.equal((await srv.json<Machine[]>('/api/machines')).length, MAX_MACHINES)
  srv.proc.kill('SIGTERM')
  await srv.exited
  const kept = JSON.parse(await fs.readFile(path.join(state, 'machines.json'), 'utf8')) as Machine[]
  t.equal(kept.length, MAX_MACHINES, 'machines.json is valid JSON, with the bounded list')
})
