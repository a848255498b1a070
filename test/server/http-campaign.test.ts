import { promises as fs } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import t from 'tap'
import { blankStatus, machineStates } from '../../protocol/status.ts'
import { MAX_MACHINES, type Machine } from '../../server/machines.ts'
import { MOST_BROWSERS } from '../../server/room-events.ts'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { waitFor } from '../helpers/net.ts'
import { startServe } from '../helpers/serve.ts'
import { startEzio } from '../helpers/swarm.ts'

const MiB = 1024 * 1024
const SIZE = 32 * MiB
// The longest answer any request here may get: the machine list at its bound is about 1 MiB.
const MOST_BYTES = 2 * MiB

interface Ask {
  what: string
  method?: string
  path: string
  body?: string | Buffer
  /** Statuses this request may get; anything else, a 5xx other than a bound's 503, or no answer is a failure. */
  may: number[]
}

interface Answer {
  status: number
  bytes: number
}

/** One request on a connection of its own; the answer's status and length, or why there was none. */
function ask (port: number, a: Ask): Promise<Answer | string> {
  return new Promise(resolve => {
    let answered: Answer | undefined
    const req = http.request({ host: '127.0.0.1', port, method: a.method ?? 'GET', path: a.path, agent: false, timeout: 15_000 }, res => {
      let bytes = 0
      res.on('data', (c: Buffer) => { bytes += c.length })
      res.on('end', () => { answered = { status: res.statusCode ?? 0, bytes }; resolve(answered) })
      res.on('error', () => resolve(answered ?? `the answer to ${a.what} broke off`))
    })
    req.on('timeout', () => { req.destroy(); resolve(`no answer to ${a.what} in 15 s`) })
    // A body the server refuses is left unread and the connection closed: the
    // rest of it then fails to write, after the 413 has come.
    req.on('error', err => setTimeout(() => resolve(answered ?? `${a.what}: ${err.message}`), 100))
    req.end(a.body)
  })
}

// Every kind of hostile request of #16 at one `ezio serve`, while a real
// machine (ezio boot) clones from it: bad JSON, wrong types, huge bodies, bad
// and stolen tokens, hostile paths and names, tracker garbage, 1,000 event
// streams and a flood of new ids. Every answer is a 4xx, or a bound's 503,
// or a bounded 200; the server never fails (5xx) nor stops answering; the
// clone finishes with the image; no machine's record holds a wrong type; and
// machines.json is valid JSON throughout.
t.test('an HTTP campaign at ezio serve while a machine clones from it', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), SIZE)
  const state = path.join(dir, 'state')
  // The seeder capped at 1 MB/s: the clone takes half a minute, the campaign's first pass runs within it.
  const srv = await startServe(t, image, state, ['--seed-ratio', '0', '--upload-limit', '1'])
  const target = await blankFile(path.join(dir, 'lab-1.disk'), SIZE)
  const machine = startEzio(t, ['boot', srv.url, '--target', target, '--id', 'lab-1', '--countdown', '0'])
  await waitFor('lab-1 to be cloning', async () => {
    const m = (await srv.json<Machine[]>('/api/machines')).find(m => m.id === 'lab-1')
    return m?.state === 'cloning' && m.bytesDone > 0 ? m : undefined
  }, 60_000)

  const other = await (await fetch(`${srv.url}/ezio.json?mac=pc-x`)).json() as { report: string }
  const token = new URL(other.report).searchParams.get('token')!
  const report = (query: string): string => `/api/status?${query}`
  const own = report(`token=${token}`)
  const status = JSON.stringify(blankStatus('pc-x', 'cloning', SIZE))
  const wrongTypes = Object.keys(blankStatus('pc-x', 'cloning')).filter(k => k !== 'id').flatMap(field =>
    ['"12"', '-1', '1e400', '[]', '{}', 'true', `"${'9'.repeat(5000)}"`].map(v => status.replace(new RegExp(`"${field}":[^,}]+`), `"${field}":${v}`)))
  const pass: Ask[] = [
    ...['', '{', 'null', '[]', '"cloning"', '{"id":', '\u0000', 'x'.repeat(60_000)].map(body => ({ what: `bad JSON ${JSON.stringify(body.slice(0, 12))}`, method: 'POST', path: own, body, may: [400] })),
    ...wrongTypes.map((body, i) => ({ what: `wrong type #${i}`, method: 'POST', path: own, body, may: [200, 400] })),
    ...['pc a', '', 'x'.repeat(65), '../../etc/passwd', '<script>alert(1)</script>', 'pc-x\n'].map(id => ({ what: `the id ${JSON.stringify(id.slice(0, 12))}`, method: 'POST', path: own, body: JSON.stringify(blankStatus(id, 'done')), may: [400, 403] })),
    { what: '__proto__ in a report', method: 'POST', path: own, body: '{"__proto__":{"state":"done"},"id":"pc-x","state":"cloning","constructor":{"prototype":{"x":1}}}', may: [200] },
    { what: 'a 1 MiB body', method: 'POST', path: own, body: Buffer.alloc(MiB, 0x7b), may: [413] },
    { what: 'a 16 MiB body', method: 'POST', path: own, body: Buffer.alloc(16 * MiB, 0x20), may: [413] },
    { what: 'a stolen token for lab-1', method: 'POST', path: own, body: JSON.stringify({ ...blankStatus('lab-1', 'failed', SIZE), error: 'forged' }), may: [403] },
    { what: 'a stolen token for a new id', method: 'POST', path: own, body: JSON.stringify(blankStatus('pc-new', 'done')), may: [403] },
    ...['', 'token=', `token=${'0'.repeat(token.length)}`, 'token=%00', 'token=%ZZ', `token=${token}x`, `token=${'f'.repeat(10_000)}`].map(q => ({ what: `the token query "${q.slice(0, 16)}"`, method: 'POST', path: report(q), body: JSON.stringify(blankStatus('lab-1', 'done', SIZE)), may: [403] })),
    ...['/api/control', '/api/machines/accept', '/api/room/reimage', '/api/room/wake', '/api/machines/lab-1/reimage', '/api/machines/lab-1/name', '/api/machines/lab-1/image']
      .flatMap(p => ['', '?token=', '?token=guess', `?token=${token}`].map(q => ({ what: `operator ${p}${q}`, method: 'POST', path: p + q, body: '{"action":"pause","name":"x"}', may: [401, 403] }))),
    { what: 'the history without a token', path: '/api/history.csv', may: [401, 403] },
    ...['/%', '/..%2f..%2fetc%2fpasswd', '/boot/../../etc/passwd', '/boot/%2e%2e/%2e%2e/etc/passwd', '/nope.torrent', '/../state/tokens.json', '/api/machines/%ZZ/accept', '/api/machines/' + 'x'.repeat(4000) + '/accept', '//', '/?' + 'a=1&'.repeat(2000)]
      .map(p => ({ what: `the path ${p.slice(0, 24)}`, path: p, may: [200, 400, 401, 403, 404] })),
    ...['DELETE', 'PUT', 'PATCH', 'OPTIONS', 'TRACE'].map(method => ({ what: `${method} /api/status`, method, path: own, body: status, may: [404] })),
    { what: 'a request line of 20 KiB', path: '/' + 'a'.repeat(20 * 1024), may: [414, 431] },
    ...['', 'mac=', 'mac=../etc', `mac=${'a'.repeat(65)}`, 'mac=a%0Ab', 'mac=<x>', 'image=../../etc/passwd&mac=pc-y', 'mac=pc-y&mac=pc-z']
      .map(q => ({ what: `the config for ${q.slice(0, 20)}`, path: `/ezio.json?${q}`, may: [200, 400, 403] })),
    ...['', 'info_hash=x', `info_hash=${'%ff'.repeat(20)}&peer_id=${'%00'.repeat(20)}&port=-1`, `info_hash=${'%00'.repeat(20)}&peer_id=${'a'.repeat(20)}&port=99999&numwant=1000000000&left=-5`, `info_hash=${'a'.repeat(4000)}`]
      .flatMap(q => [`/announce?${q}`, `/scrape?${q}`]).map(p => ({ what: `the tracker: ${p.slice(0, 30)}`, path: p, may: [200, 400] }))
  ]

  const tally = new Map<number, number>()
  const failures: string[] = []
  let most = 0
  const run = async (asks: Ask[], parallel = 16): Promise<void> => {
    for (let i = 0; i < asks.length; i += parallel) {
      await Promise.all(asks.slice(i, i + parallel).map(async a => {
        const answer = await ask(srv.port, a)
        if (typeof answer === 'string') return failures.push(answer)
        tally.set(answer.status, (tally.get(answer.status) ?? 0) + 1)
        most = Math.max(most, answer.bytes)
        if (!a.may.includes(answer.status)) failures.push(`${a.what}: ${answer.status}, not ${a.may.join(' or ')}`)
        if (answer.bytes > MOST_BYTES) failures.push(`${a.what}: ${answer.bytes} bytes`)
      }))
    }
  }
  const started = Date.now()
  await run(pass)
  const hostile = pass.length

  const streams: http.IncomingMessage[] = []
  const opened = await Promise.all(Array.from({ length: 1000 }, () => new Promise<number>(resolve => {
    http.get({ host: '127.0.0.1', port: srv.port, path: '/api/events', agent: false }, res => {
      if (res.statusCode === 200) streams.push(res)
      else res.resume()
      resolve(res.statusCode ?? 0)
    }).on('error', () => resolve(0))
  })))
  const streamCodes = Object.fromEntries([200, 503, 0].map(c => [c, opened.filter(x => x === c).length]))
  t.same(streamCodes, { 200: MOST_BROWSERS, 503: 1000 - MOST_BROWSERS, 0: 0 }, `1,000 event streams: ${JSON.stringify(streamCodes)}`)

  await run(Array.from({ length: MAX_MACHINES + 100 }, (_, i) => ({ what: `new id flood-${i}`, path: `/boot/boot.ipxe?mac=flood-${i}`, may: [200, 503] })), 32)
  const midway = JSON.parse(await fs.readFile(path.join(state, 'machines.json'), 'utf8')) as Machine[]
  t.ok(midway.length <= MAX_MACHINES, `machines.json mid-campaign: valid JSON, ${midway.length} machines`)
  // Again, now that the server knows all it may: the hostile pass is answered as before.
  await run(pass)
  const seconds = (Date.now() - started) / 1000
  for (const s of streams) s.destroy()

  t.same(failures, [], `${[...tally.values()].reduce((a, b) => a + b, 0)} answers ${JSON.stringify(Object.fromEntries(tally))}, the longest ${most} bytes, in ${seconds.toFixed(1)} s (${hostile} hostile requests a pass)`)
  t.notOk([...tally.keys()].some(s => s >= 500 && s !== 503), 'no 5xx but the bounds\' 503')

  const end = await machine.exited
  t.equal(end.exitCode, 0, `lab-1 finished its clone: ${machine.stderr().split('\n').slice(-3).join(' / ')}`)
  t.equal(await sha256(target), await sha256(image), 'lab-1 holds the image')
  const machines = await srv.json<Machine[]>('/api/machines')
  t.equal(machines.length, MAX_MACHINES, 'the list holds its bound')
  t.equal(machines.find(m => m.id === 'lab-1')?.state, 'done', 'lab-1 is listed done, not failed by the forged report')
  t.notOk(machines.some(m => m.id === 'pc-new'), 'the stolen token stored no new id')
  const counts = ['bytesDone', 'total', 'reused', 'refetched', 'downRate', 'upRate', 'fromSeeder', 'fromPeers', 'uploaded', 'peers'] as const
  const bad = machines.filter(m => counts.some(k => typeof m[k] !== 'number' || !Number.isFinite(m[k]) || m[k] < 0) ||
    !([...machineStates, 'queued', 'refused'] as string[]).includes(m.state) || (m.error !== null && typeof m.error !== 'string'))
  t.same(bad.map(m => m.id), [], 'every machine\'s fields are of their types')
  const room = await srv.json<{ totals: Record<string, unknown> }>('/api/room')
  t.ok(Object.values(room.totals).every(v => v === null || typeof v === 'number'), `the room's totals are numbers: ${JSON.stringify(room.totals)}`)

  srv.proc.kill('SIGTERM')
  t.equal((await srv.exited).exitCode, 0, 'the server stops cleanly')
  const kept = JSON.parse(await fs.readFile(path.join(state, 'machines.json'), 'utf8')) as Machine[]
  t.equal(kept.length, MAX_MACHINES, 'machines.json is valid JSON, with the bounded list')
})
