import t from 'tap'
import bencode from 'bencode'
import { createHash } from 'node:crypto'
import http from 'node:http'
import path from 'node:path'
import type { Machine } from '../../server/machines.ts'
import { ezio } from '../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { loopDevice } from '../helpers/loop.ts'
import { freePort, waitFor } from '../helpers/net.ts'
import { startServe } from '../helpers/serve.ts'
import { startEzio } from '../helpers/swarm.ts'

const SIZE = 64 * 1024 * 1024

t.test('a room of three: ezio boot fetches config and torrent, clones from the seeder and from each other, reports done', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), SIZE)
  // The seeder's upload is capped so that the machines must serve each other.
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--seed-ratio', '0.5', '--seed-idle', '5', '--upload-limit', '12'])
  const targets = [
    await blankFile(path.join(dir, 'm1.disk'), SIZE),
    await blankFile(path.join(dir, 'm2.disk'), SIZE + 4096),
    await loopDevice(t, await blankFile(path.join(dir, 'm3.disk'), SIZE))
  ]
  const boots = targets.map((target, i) => startEzio(t, ['boot', srv.url, '--target', target, '--id', `lab-${i + 1}`, '--countdown', '0']))
  const ends = await Promise.all(boots.map(b => b.exited))
  for (const [i, end] of ends.entries()) t.equal(end.exitCode, 0, `machine ${i + 1} ended well: ${boots[i]!.stderr().split('\n').slice(-3).join(' / ')}`)
  for (const b of boots) t.equal(String((await b.proc).stdout).trim(), 'reboot', 'boot prints the after-action, alone, on stdout')
  const want = await sha256(image)
  for (const target of targets) t.equal(await sha256(target, SIZE), want, `${target} holds the image`)

  const machines = await srv.json<Machine[]>('/api/machines')
  t.same(machines.map(m => m.id).sort(), ['lab-1', 'lab-2', 'lab-3'])
  for (const m of machines) {
    t.equal(m.state, 'done', `${m.id} is listed as done`)
    t.equal(m.bytesDone, SIZE)
    t.ok(m.fromSeeder > 0, `${m.id} got bytes from the seeder`)
  }
  const fromPeers = machines.reduce((s, m) => s + m.fromPeers, 0)
  t.ok(fromPeers > SIZE / 4, `machines served each other ${fromPeers} bytes`)
})

t.test('the config, the torrent and boot.ipxe carry the address the machine used; the info hash does not change', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'small.img'), 4 * 1024 * 1024)
  const port = await freePort()
  const btPort = await freePort()
  // No --advertise here: addresses come from the Host header.
  const run = startEzio(t, ['serve', image, '--accept-all', '--port', String(port), '--bt-port', String(btPort), '--state', path.join(dir, 'state'), '--netboot', path.join(dir, 'no-netboot')])
  const base = `http://127.0.0.1:${port}`
  await waitFor('the server', async () => (await fetch(base + '/ezio.json').catch(() => undefined))?.ok || undefined, 60_000)
  // fetch() sets Host itself: node:http sends the one a remote machine would.
  const asSeenFrom = (host: string, p: string): Promise<Response> => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, headers: { host } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode })))
    }).on('error', reject)
  })
  const config = await (await asSeenFrom('10.99.0.1:8080', '/ezio.json')).json() as Record<string, unknown>
  t.equal(config.torrent, 'http://10.99.0.1:8080/small.torrent', 'the config names its image\'s own torrent')
  t.same(config.peers, [`10.99.0.1:${btPort}`])
  t.match(config.report, /^http:\/\/10\.99\.0\.1:8080\/api\/status\?token=[0-9a-f]+$/)
  t.match(config, { version: 1, target: 'auto', after: 'reboot', seedRatio: 3, seedIdle: 90 })

  const a = bencode.decode(new Uint8Array(await (await asSeenFrom('10.99.0.1:8080', '/ezio.torrent')).arrayBuffer())) as Record<string, unknown>
  const b = bencode.decode(new Uint8Array(await (await asSeenFrom('192.168.7.7:9000', '/small.torrent')).arrayBuffer())) as Record<string, unknown>
  t.equal(Buffer.from(a.announce as Uint8Array).toString(), 'http://10.99.0.1:8080/announce')
  t.equal(Buffer.from(b.announce as Uint8Array).toString(), 'http://192.168.7.7:9000/announce')
  const infoHash = (x: Record<string, unknown>): string => createHash('sha1').update(bencode.encode(x.info)).digest('hex')
  t.equal(infoHash(a), infoHash(b), 'same info hash whatever the announce')

  const chain = await (await asSeenFrom('10.99.0.1:8080', '/boot/boot.ipxe')).text()
  t.match(chain, /^#!ipxe\nchain http:\/\/10\.99\.0\.1:8080\/boot\/boot\.ipxe\?mac=\$\{netX\/mac\}\n$/, 'asked without ?mac=, iPXE is told to ask again naming the machine')
  const ipxe = await (await asSeenFrom('10.99.0.1:8080', '/boot/boot.ipxe?mac=52:54:00:00:00:42')).text()
  t.match(ipxe, /^#!ipxe/)
  t.match(ipxe, /kernel http:\/\/10\.99\.0\.1:8080\/boot\/vmlinuz .*ezio\.server=http:\/\/10\.99\.0\.1:8080 BOOTIF=01-\$\{netX\/mac:hexhyp\}/)
  t.match(ipxe, /initrd http:\/\/10\.99\.0\.1:8080\/boot\/initrd\.img/)
  t.match(ipxe, /^kernel .* console=ttyS0,115200n8 console=tty0$/m, 'the kernel line ends in console=tty0: the screen is the console')
  t.equal((await fetch(base + '/boot/vmlinuz')).status, 404, 'netboot files absent: 404, and serve still runs')
  t.match(run.stderr(), /vmlinuz is missing/)

  // The tracker answers for this torrent only.
  const other = '%AA'.repeat(20)
  const refused = Buffer.from(await (await fetch(`${base}/announce?info_hash=${other}&peer_id=${'%BB'.repeat(20)}&port=6881&uploaded=0&downloaded=0&left=1&compact=1`)).arrayBuffer())
  t.match(refused.toString('latin1'), /failure reason.*serves only/)
  const mine = infoHash(a).replace(/../g, h => '%' + h)
  const ok = Buffer.from(await (await fetch(`${base}/announce?info_hash=${mine}&peer_id=${'%BB'.repeat(20)}&port=6881&uploaded=0&downloaded=0&left=1&compact=1`)).arrayBuffer())
  t.notMatch(ok.toString('latin1'), /failure reason/)
  t.match(ok.toString('latin1'), /interval/)
})

t.test('only allowed MACs get a config; pause needs the operator token and holds new machines back', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'small.img'), 4 * 1024 * 1024)
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--allow', '52:54:00:00:00:01,52:54:00:00:00:02', '--seed-ratio', '0'])
  const target = await blankFile(path.join(dir, 'intruder.disk'), 4 * 1024 * 1024)
  const before = await sha256(target)
  const refused = await ezio(['boot', srv.url, '--target', target, '--id', '52:54:00:00:00:09', '--countdown', '0'])
  t.equal(refused.exitCode, 13)
  t.match(refused.stderr, /^ezio: the server refuses this machine \(52:54:00:00:00:09\): .*not in the server's --allow list/m)
  t.equal(await sha256(target), before, 'nothing written')
  const listed = await srv.json<Machine[]>('/api/machines')
  t.match(listed, [{ id: '52:54:00:00:00:09', state: 'refused' }])

  t.equal((await fetch(`${srv.url}/api/control?action=pause`, { method: 'POST' })).status, 403, 'no token, no pause')
  t.equal((await fetch(`${srv.url}/api/control?action=pause&token=${srv.operatorToken}`, { method: 'POST' })).status, 200)
  t.equal((await fetch(`${srv.url}/ezio.json?mac=52:54:00:00:00:01`)).status, 503, 'paused: new machines wait')
  const waiting = startEzio(t, ['boot', srv.url, '--target', target, '--id', '52:54:00:00:00:01', '--countdown', '0'])
  await new Promise(resolve => setTimeout(resolve, 3000))
  t.equal(waiting.proc.exitCode, null, 'the machine waits while paused')
  t.equal(await sha256(target), before, 'and writes nothing')
  await fetch(`${srv.url}/api/control?action=resume&token=${srv.operatorToken}`, { method: 'POST' })
  t.equal((await waiting.exited).exitCode, 0, 'resumed: it clones')
  t.equal(await sha256(target), await sha256(image))
  t.equal((await fetch(`${srv.url}/api/status?token=wrong`, { method: 'POST', body: JSON.stringify({ id: 'pc-1', state: 'cloning' }) })).status, 403, 'reports need the machine\'s token')
})

t.test('bad input: a missing image, a port in use', async t => {
  const dir = await tempDir(t)
  const missing = await ezio(['serve', path.join(dir, 'nope.img'), '--state', path.join(dir, 's1'), '--port', String(await freePort())])
  t.equal(missing.exitCode, 12)
  t.match(missing.stderr, /^ezio: image .*nope\.img does not exist/m)
  const image = await randomImage(path.join(dir, 'small.img'), 1024 * 1024)
  const srv = await startServe(t, image, path.join(dir, 's2'))
  const clash = await ezio(['serve', image, '--state', path.join(dir, 's3'), '--port', String(srv.port), '--bt-port', String(await freePort())])
  t.equal(clash.exitCode, 8)
  t.match(clash.stderr, new RegExp(`^ezio: port ${srv.port} is in use`, 'm'))
})

t.test('bad input: a --dhcp-range that would hand out the wrong addresses is refused before anything starts', async t => {
  const dir = await tempDir(t)
  const image = path.join(dir, 'lab.img')
  const state = ['--state', path.join(dir, 's'), '--port', String(await freePort())]
  const cases: Array<[string[], RegExp]> = [
    [['--dhcp-range', '127.0.0.2-127.0.0.9'], /--dhcp-range needs --pxe IFACE/],
    [['--pxe', 'lo', '--dhcp-range', '127.0.0.2'], /give FIRST-LAST, two IPv4 addresses/],
    [['--pxe', 'lo', '--dhcp-range', '10.0.0.2-10.0.0.9'], /both ends must be on lo's network, 127\.0\.0\.0\/8/],
    [['--pxe', 'lo', '--dhcp-range', '127.0.0.9-127.0.0.2'], /FIRST comes after LAST/],
    [['--pxe', 'lo', '--dhcp-range', '127.0.0.1-127.0.0.9'], /holds this server's own address, 127\.0\.0\.1/]
  ]
  for (const [args, why] of cases) {
    const r = await ezio(['serve', image, ...state, ...args])
    t.equal(r.exitCode, 2, `${args.join(' ')}: the usage exit code`)
    t.match(r.stderr, why, `${args.join(' ')}: says why`)
    t.equal(r.stderr.trim().split('\n').length, 1, 'in one line')
  }
})
