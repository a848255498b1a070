import t from 'tap'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'
import { blankFile, randomImage, tempDir } from '../helpers/files.ts'
import { waitFor } from '../helpers/net.ts'
import { root } from '../helpers/paths.ts'
import { startServe } from '../helpers/serve.ts'
import { startEzio } from '../helpers/swarm.ts'
import { referenceDisk } from '../helpers/capture.ts'
import type { Machine } from '../../server/machines.ts'

const SIZE = 64 * 1024 * 1024
const artifacts = path.join(root, 'test/artifacts')

t.test('the dashboard, in a real browser, shows a tile per machine whose progress grows, then done', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'room.img'), SIZE)
  // A slow seeder keeps the clones running long enough to watch them.
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--seed-ratio', '0', '--upload-limit', '4'])
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 420, height: 800 } })
  await page.goto(`${srv.url}/?token=${srv.operatorToken}`)
  await page.waitForSelector('#conn:text("live")')

  const ids = ['pc-01', 'pc-02', 'pc-03']
  for (const id of ids) startEzio(t, ['boot', srv.url, '--target', await blankFile(path.join(dir, `${id}.disk`), SIZE), '--id', id, '--countdown', '0'])

  const progress = async (): Promise<Record<string, number>> => Object.fromEntries(await page.$$eval('[data-machine]', tiles =>
    tiles.map(e => [e.getAttribute('data-machine') ?? '', Number(e.getAttribute('data-progress'))])))
  const first = await waitFor('three tiles with some progress', async () => {
    const p = await progress()
    return Object.keys(p).length === 3 && Object.values(p).some(v => v > 0 && v < 100) ? p : undefined
  }, 60_000)
  await fs.mkdir(artifacts, { recursive: true })
  await page.screenshot({ path: path.join(artifacts, 'dashboard-running.png'), fullPage: true })
  const later = await waitFor('progress to grow', async () => {
    const p = await progress()
    return ids.some(id => (p[id] ?? 0) > (first[id] ?? 0)) ? p : undefined
  }, 60_000)
  t.ok(ids.some(id => (later[id] ?? 0) > (first[id] ?? 0)), `progress grew: ${JSON.stringify(first)} -> ${JSON.stringify(later)}`)

  const states = (): Promise<(string | null)[]> => page.$$eval('[data-machine]', tiles => tiles.map(e => e.getAttribute('data-state')))
  await waitFor('every tile to say done', async () => {
    const s = await states()
    return s.length === 3 && s.every(x => x === 'done') ? true : undefined
  }, 180_000, 500)
  t.same(await states(), ['done', 'done', 'done'])
  t.same(await page.$$eval('tr.machine .state', cells => cells.map(c => c.textContent)), ['done', 'done', 'done'], 'and so does the detail list')
  t.equal(await page.textContent('#t-done'), '3 / 3')
  await page.screenshot({ path: path.join(artifacts, 'dashboard-done.png'), fullPage: true })
  t.ok((await fs.stat(path.join(artifacts, 'dashboard-done.png'))).size > 1000, 'screenshot kept in test/artifacts')
})

t.test('the dashboard\'s actions: a waiting machine is accepted with a click, a done one sent back with another, marked for capture and unmarked', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'room.img'), 4 * 1024 * 1024)
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--seed-ratio', '0'], { acceptAll: false })
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1024, height: 700 } })
  await page.goto(`${srv.url}/?token=${srv.operatorToken}`)
  await page.waitForSelector('#conn:text("live")')
  const boot = startEzio(t, ['boot', srv.url, '--target', await blankFile(path.join(dir, 'pc-09.disk'), 4 * 1024 * 1024), '--id', 'pc-09', '--countdown', '0'])
  const tile = '[data-machine="pc-09"]'
  await page.waitForSelector(`${tile}[data-state="waiting"]`, { timeout: 30_000 })
  await fs.mkdir(artifacts, { recursive: true })
  await page.screenshot({ path: path.join(artifacts, 'dashboard-waiting.png'), fullPage: true })
  await page.click(`${tile} button:text("Accept")`)
  t.equal((await boot.exited).exitCode, 0, 'accepted from the dashboard, the machine clones')
  await page.waitForSelector(`${tile}[data-state="done"]`, { timeout: 30_000 })
  await page.click(`${tile} button:text("Re-image")`)
  await waitFor('the server to send it back', async () => {
    const res = await fetch(`${srv.url}/ezio.json?mac=pc-09`)
    return res.status === 200 || undefined
  }, 10_000)
  t.pass('re-imaged from the dashboard: its next boot clones')

  page.once('dialog', d => { void d.accept('lab-ref') })
  await page.click(`${tile} button:text("Capture as…")`)
  await page.waitForSelector(`${tile}:has-text("capture as lab-ref at its next boot")`, { timeout: 10_000 })
  const marked = (await srv.json<Machine[]>('/api/machines')).find(m => m.id === 'pc-09')
  t.same(marked?.capture, { image: 'lab-ref', replace: false }, 'marked for capture from the dashboard, the name asked for in a prompt')
  await page.click(`${tile} button:text("Cancel capture")`)
  await page.waitForSelector(`${tile} button:text("Capture as…")`, { timeout: 10_000 })
  t.equal((await srv.json<Machine[]>('/api/machines')).find(m => m.id === 'pc-09')?.capture, null, 'and unmarked with another click')
})

t.test('a capture shows on the dashboard as a tile whose progress grows, then stored; the image joins the list', async t => {
  const dir = await tempDir(t)
  const ref = await referenceDisk(t, dir, { diskMiB: 448, partMiB: 400, files: 4, fileMiB: 64 })
  const srv = await startServe(t, '', path.join(dir, 'state'))
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1024, height: 700 } })
  await page.goto(`${srv.url}/?token=${srv.operatorToken}`)
  await page.waitForSelector('#conn:text("live")')
  t.equal(await page.textContent('#name'), 'no image yet', 'an empty store says so')
  const run = startEzio(t, ['capture', ref.disk, srv.url, '--name', 'lab-ref', '--token', srv.operatorToken])
  const tile = '[data-capture="lab-ref"]'
  const seen = await waitFor('the capture tile part-way', async () => {
    const p = Number(await page.getAttribute(tile, 'data-progress', { timeout: 100 }).catch(() => null))
    return p > 0 && p < 100 ? p : undefined
  }, 60_000, 100)
  t.ok(seen > 0 && seen < 100, `the tile shows the capture under way (${seen} %)`)
  await fs.mkdir(artifacts, { recursive: true })
  await page.screenshot({ path: path.join(artifacts, 'dashboard-capture.png'), fullPage: true })
  await page.waitForSelector(`${tile}[data-state="done"]`, { timeout: 120_000 })
  t.match(await page.textContent(tile), /stored, ready to deploy/)
  t.equal((await run.exited).exitCode, 0, run.stderr())
  await page.waitForSelector('#name:text("lab-ref")', { timeout: 10_000 })
  t.pass('the captured image is the room\'s image')
})
