import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import path from 'node:path'
import { MOST_BROWSERS, RoomEvents } from '../../server/room-events.ts'
import { randomImage, tempDir } from '../helpers/files.ts'
import { startServe } from '../helpers/serve.ts'
import { waitFor } from '../helpers/net.ts'

t.test('one timer and one view a tick for every open dashboard; quiet rooms every 5 ticks; none with no browser', async t => {
  let views = 0
  const events = new RoomEvents(whole => ({ n: ++views, whole }), 100)
  const server = http.createServer((req, res) => events.add(req, res))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { events.stop(); server.closeAllConnections(); server.close() })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`

  const BROWSERS = 20
  const frames: string[][] = Array.from({ length: BROWSERS }, () => [])
  const readers = await Promise.all(frames.map(async got => {
    const reader = (await fetch(url)).body!.getReader()
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }))
        if (done) return
        got.push(...Buffer.from(value).toString().split('\n\n').filter(Boolean))
      }
    })()
    return reader
  }))
  const first = views
  t.equal(first, BROWSERS, 'each browser\'s first frame is its own whole view')

  events.touch()
  await waitFor('the next tick', () => views > first || undefined, 5000, 10)
  t.equal(views, first + 1, `a change: one view made for ${BROWSERS} browsers`)
  t.ok(frames.every(f => /"whole":true/.test(f[0] ?? '')), 'the first frames were whole views')
  const quietFrom = Date.now()
  await waitFor('the quiet room to be sent again', () => views > first + 1 || undefined, 5000, 10)
  const quiet = Date.now() - quietFrom
  t.ok(quiet >= 350, `nothing changed: nothing sent for ${quiet} ms, then the quiet room at the 5th tick`)
  await waitFor('every browser to have 3 frames', () => frames.every(f => f.length === 3) || undefined, 5000, 10)
  t.ok(frames.every(f => /"whole":false/.test(f[1]!) && f[1] === frames[0]![1]), 'every browser got the same frames, later ones not whole')

  await Promise.all(readers.map(r => r.cancel()))
  await new Promise(resolve => setTimeout(resolve, 100))
  events.touch()
  const after = views
  await new Promise(resolve => setTimeout(resolve, 300))
  t.equal(views, after, 'no browser open: the timer has stopped')
})

t.test('1,000 event streams opened at ezio serve: 64 are served, the rest refused (503), the server answers on', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), 1024 * 1024)
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--seed-ratio', '0'])
  const streams: Response[] = []
  const codes = new Map<number, number>()
  for (let i = 0; i < 1000; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, () => fetch(`${srv.url}/api/events`)))
    for (const res of batch) {
      codes.set(res.status, (codes.get(res.status) ?? 0) + 1)
      if (res.status === 200) streams.push(res)
      else await res.body?.cancel()
    }
  }
  t.teardown(() => Promise.all(streams.map(s => s.body?.cancel().catch(() => {}))))
  t.same(Object.fromEntries(codes), { 200: MOST_BROWSERS, 503: 1000 - MOST_BROWSERS }, `answers ${JSON.stringify(Object.fromEntries(codes))}`)
  t.equal((await fetch(`${srv.url}/api/machines`)).status, 200, '/api/machines answers')
  t.equal((await fetch(`${srv.url}/ezio.json?mac=pc-1`)).status, 200, '/ezio.json answers')
  const reader = streams.shift()!.body!.getReader()
  const { value } = await reader.read()
  t.match(Buffer.from(value!).toString(), /^data: \{/, 'an open stream still carries the room')
  await reader.cancel()
  await new Promise(resolve => setTimeout(resolve, 200))
  const next = await fetch(`${srv.url}/api/events`)
  t.equal(next.status, 200, 'one closed: the next browser is served')
  await next.body?.cancel()
})
