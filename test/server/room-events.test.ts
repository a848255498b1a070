import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { RoomEvents } from '../../server/room-events.ts'
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
