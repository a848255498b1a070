import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { chromium, type Browser } from 'playwright-core'
import type { Test } from 'tap'
import type { CloneStatus } from '../../protocol/status.ts'
import type { Machine } from '../../server/machines.ts'
import { randomImage, tempDir } from '../helpers/files.ts'
import { waitFor } from '../helpers/net.ts'
import { root } from '../helpers/paths.ts'
import { startServe, type Served } from '../helpers/serve.ts'

const artifacts = path.join(root, 'test/artifacts')
const ROOM = 60
const TOTAL = 500_000_000
const mac = (i: number): string => `52:54:00:12:00:${i.toString(16).padStart(2, '0')}`

async function launch (t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
  t.teardown(() => browser.close())
  return browser
}

// What machine I says of itself at second S of a synthetic room: most cloning
// at their own pace, a few done, one failed, one waiting.
function statusOf (i: number, s: number): CloneStatus {
  const base = { id: mac(i), reused: 0, refetched: 0, upRate: 1e6, uploaded: 0, peers: 5, error: null }
  if (i === 3) return { ...base, state: 'failed', bytesDone: 1e8, total: TOTAL, downRate: 0, fromSeeder: 1e7, fromPeers: 9e7, eta: null, error: 'writing piece 40 failed (EIO): check the disk' }
  if (i === 4) return { ...base, state: 'waiting', bytesDone: 0, total: TOTAL, downRate: 0, fromSeeder: 0, fromPeers: 0, eta: null, error: 'waiting for the operator' }
  if (i % 10 === 0) return { ...base, state: 'seeding', bytesDone: TOTAL, total: TOTAL, downRate: 0, fromSeeder: 2e7, fromPeers: TOTAL - 2e7, eta: 0 }
  const rate = i === 7 ? 2e6 : 12e6
  const done = Math.min(TOTAL - 1, (i * 4e6 + s * rate))
  return { ...base, state: 'cloning', bytesDone: done, total: TOTAL, downRate: rate, fromSeeder: done / 20, fromPeers: done - done / 20, eta: Math.round((TOTAL - done) / rate) }
}

async function report (url: string, status: CloneStatus): Promise<void> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(status) })
  if (!res.ok) throw new Error(`POST /api/status: HTTP ${res.status} ${await res.text()}`)
}

async function machines (srv: Served): Promise<Machine[]> {
  return await srv.json<Machine[]>('/api/machines')
}

t.test('the operator\'s console: 60 machines at a glance on 1920x1080, live, with actions and names', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'room.img'), 1024 * 1024)
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--seed-ratio', '0'])
  // Each machine is handed its config, as a booting machine is; the reports
  // then go through the real POST /api/status with the machine token it gives.
  const reportUrl: string[] = []
  for (let i = 1; i <= ROOM; i++) {
    const config = await (await fetch(`${srv.url}/ezio.json?mac=${mac(i)}`)).json() as { report: string }
    reportUrl[i] = config.report
  }
  let second = 0
  const silent = 21 // stops reporting: it must show as stalled
  const tick = async (): Promise<void> => {
    second++
    await Promise.all(Array.from({ length: ROOM }, (_, k) => k + 1).filter(i => i !== silent || second < 2).map(i => report(reportUrl[i]!, statusOf(i, second))))
  }
  await tick()
  let ticking = true
  const loop = (async () => {
    while (ticking) {
      await new Promise(resolve => setTimeout(resolve, 1000))
      if (ticking) await tick()
    }
  })()
  t.teardown(async () => { ticking = false; await loop })

  const browser = await launch(t)
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } })
  await page.goto(`${srv.url}/?token=${srv.operatorToken}`)
  await page.waitForSelector('#conn:text("live")')
  const tiles = page.locator('[data-machine]')
  await waitFor('60 tiles', async () => await tiles.count() === ROOM || undefined, 30_000)
  t.equal(await tiles.count(), ROOM, 'one tile per machine')
  const boxes = await page.$$eval('[data-machine]', els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom] }))
  const outside = boxes.filter(([l, top, r, b]) => l! < 0 || top! < 0 || r! > 1920 || b! > 1080)
  t.same(outside, [], 'every tile inside the 1920x1080 viewport, no scrolling')
  t.equal(await page.textContent('#t-done'), `6 / ${ROOM} (1 failed)`, 'the room totals: done / total, failed')

  const failed = page.locator(`[data-machine="${mac(3)}"]`)
  t.equal(await failed.getAttribute('data-state'), 'failed', 'the failed machine is marked failed')
  const colours = await page.evaluate(`${JSON.stringify([mac(3), mac(5)])}.map(id => getComputedStyle(document.querySelector('[data-machine="' + id + '"]')).borderLeftColor)`) as string[]
  t.not(colours[0], colours[1], `failed and cloning tiles differ in colour (${colours.join(' / ')})`)
  t.match(await page.locator(`[data-machine="${mac(7)}"]`).getAttribute('class'), /\bslow\b/, 'a machine at a sixth of the room\'s median rate is marked slow')

  // Live without re-rendering the room: the tiles are the same elements as the reports come in.
  // (Strings: they run in the page, whose DOM this file's types do not know.)
  await page.evaluate('window.first = [...document.querySelectorAll("[data-machine]")]')
  const before = await page.locator(`[data-machine="${mac(5)}"] .line`).first().textContent()
  await waitFor('a tile to move', async () => await page.locator(`[data-machine="${mac(5)}"] .line`).first().textContent() !== before || undefined, 20_000)
  t.ok(await page.evaluate('window.first.every((e, i) => e === document.querySelectorAll("[data-machine]")[i])'), 'progress moved; every tile is the element it was')
  await page.waitForSelector(`[data-machine="${mac(silent)}"].stalled`, { timeout: 30_000 })
  t.pass('a machine that stopped reporting mid-clone stands out as stalled')

  await fs.mkdir(artifacts, { recursive: true })
  await page.screenshot({ path: path.join(artifacts, 'console-60.png') })

  // Re-image with a click on one tile.
  await page.click(`[data-machine="${mac(10)}"] button:text("Re-image")`)
  const queued = await waitFor('the re-imaged machine to be queued', async () => (await machines(srv)).find(m => m.id === mac(10) && m.state === 'queued'), 10_000)
  t.equal(queued.holds, null, 're-imaged from its tile: queued, its disk no longer counts as holding the image')
  await page.waitForSelector(`[data-machine="${mac(10)}"][data-state="queued"]`, { timeout: 10_000 })

  // Name a machine with a click: the name is on its tile and in the list.
  page.once('dialog', dialog => { void dialog.accept('pc-07') })
  await page.click(`[data-machine="${mac(7)}"] button:text("Name")`)
  await page.waitForSelector(`[data-machine="${mac(7)}"] .who:text("pc-07")`, { timeout: 10_000 })
  t.equal((await machines(srv)).find(m => m.id === mac(7))?.name, 'pc-07', 'named from its tile, as /api/machines shows')
  t.match(await page.locator(`tr[data-id="${mac(7)}"]`).textContent(), /pc-07.*52:54:00:12:00:07/, 'the detail list shows the name beside the MAC')
  await page.screenshot({ path: path.join(artifacts, 'console-60-named.png') })

  // On a phone the same page: every tile there, one under another.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } })
  await phone.goto(`${srv.url}/?token=${srv.operatorToken}`)
  await waitFor('60 tiles on the phone', async () => await phone.locator('[data-machine]').count() === ROOM || undefined, 30_000)
  const widest = Math.max(...await phone.$$eval('[data-machine]', els => els.map(e => e.getBoundingClientRect().right)))
  t.ok(widest <= 390, `on a phone no tile is wider than the screen (rightmost edge ${widest})`)
  await phone.screenshot({ path: path.join(artifacts, 'console-60-phone.png') })
})

t.test('machine names: kept under --state, unique, checked', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'room.img'), 1024 * 1024)
  const state = path.join(dir, 'state')
  const srv = await startServe(t, image, state, ['--seed-ratio', '0'])
  for (const i of [1, 2]) await fetch(`${srv.url}/ezio.json?mac=${mac(i)}`)
  const name = (s: Served, id: string, body: unknown, token = s.operatorToken): Promise<Response> =>
    fetch(`${s.url}/api/machines/${id}/name?token=${token}`, { method: 'POST', body: JSON.stringify(body) })
  t.equal((await name(srv, mac(1), { name: 'pc-01' }, 'nope')).status, 403, 'no operator token, no name')
  t.equal((await name(srv, mac(1), { name: 'pc-01' })).status, 200)
  const taken = await name(srv, mac(2), { name: 'pc-01' })
  t.equal(taken.status, 409, 'a name another machine has: 409')
  t.match(await taken.text(), /^pc-01 is already the name of 52:54:00:12:00:01/)
  for (const bad of [{ name: '<b>x</b>' }, { name: 'a'.repeat(33) }, { name: 7 }, {}]) {
    const res = await name(srv, mac(2), bad)
    t.equal(res.status, 400, `refused: ${JSON.stringify(bad).slice(0, 40)}`)
  }
  t.equal((await name(srv, '52:54:00:12:00:99', { name: 'pc-99' })).status, 404, 'an unknown machine cannot be named')
  srv.proc.kill('SIGTERM')
  await srv.exited
  const again = await startServe(t, image, state, ['--seed-ratio', '0'])
  t.equal((await machines(again)).find(m => m.id === mac(1))?.name, 'pc-01', 'the name survives a restart')
  t.equal((await name(again, mac(1), { name: '' })).status, 200)
  t.equal((await machines(again)).find(m => m.id === mac(1))?.name, null, 'an empty name drops it')
})

t.test('no operator token in anything a machine can fetch', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'room.img'), 1024 * 1024)
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--seed-ratio', '0'])
  const id = mac(1)
  const open = ['/', '/api/machines', '/api/room', '/api/images', `/ezio.json?mac=${id}`, '/ezio.torrent', '/room.torrent', `/boot/boot.ipxe?mac=${id}`, '/boot/boot.ipxe', '/boot/grub.cfg', '/api/history.csv']
  for (const route of open) {
    const body = Buffer.from(await (await fetch(srv.url + route)).arrayBuffer()).toString('latin1')
    t.notOk(body.includes(srv.operatorToken), `${route}: no operator token`)
  }
  const events = await fetch(`${srv.url}/api/events`)
  const reader = events.body!.getReader()
  const { value } = await reader.read()
  await reader.cancel()
  t.notOk(Buffer.from(value!).toString().includes(srv.operatorToken), '/api/events: no operator token')
  t.equal((await fetch(`${srv.url}/api/history.csv`)).status, 403, 'the history needs the operator token')
})

t.test('a report that is no status is refused (400) and changes nothing the console shows', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'room.img'), 1024 * 1024)
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--seed-ratio', '0'])
  const { report: url } = await (await fetch(`${srv.url}/ezio.json?mac=${mac(1)}`)).json() as { report: string }
  await report(url, statusOf(1, 1))
  const before = (await machines(srv)).find(m => m.id === mac(1))
  const hostile: [string, unknown][] = [
    ['a state that is none', { ...statusOf(1, 2), state: 'pwned' }],
    ['a count that is markup', { ...statusOf(1, 2), bytesDone: '<img src=x onerror=alert(1)>' }],
    ['a negative count', { ...statusOf(1, 2), fromSeeder: -5 }],
    ['an error that is no text', { ...statusOf(1, 2), error: { html: '<b>' } }],
    ['an eta that is no number', { ...statusOf(1, 2), eta: 'soon' }]
  ]
  for (const [what, body] of hostile) {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) })
    t.equal(res.status, 400, `${what}: 400, ${(await res.text()).trim()}`)
  }
  t.same((await machines(srv)).find(m => m.id === mac(1)), before, 'the machine is as its last good report left it')
})
