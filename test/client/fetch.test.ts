import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import t, { type Test } from 'tap'
import { exitCodes } from '../../cli/exit-codes.ts'
import { ezio } from '../helpers/ezio.ts'
import { blankFile, sha256, tempDir } from '../helpers/files.ts'

// A server on loopback that answers /ezio.json with BODY, and torrents with
// a header that promises 100 MiB: what a hostile or broken host could send.
async function fakeServer (t: Test, body: (base: string) => string): Promise<string> {
  const server = http.createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    if (req.url?.startsWith('/ezio.json')) return res.end(body(base))
    res.writeHead(200, { 'content-length': String(100 * 1024 * 1024) })
    res.write(Buffer.alloc(1024 * 1024))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const good = (base: string): Record<string, unknown> => ({ version: 1, torrent: `${base}/lab.torrent`, target: 'auto', after: 'reboot', seedRatio: 0, seedIdle: 0, peers: ['127.0.0.1:6881'], report: `${base}/api/status?token=x` })

const cases: [string, (base: string) => string, number, RegExp][] = [
  ['not JSON', () => '<html>captive portal</html>', exitCodes.badConfig, /is not JSON/],
  ['peers that are no HOST:PORT', base => JSON.stringify({ ...good(base), peers: ['127.0.0.1:99999'] }), exitCodes.badConfig, /has no valid "peers" \(a list of at most 64 HOST:PORT\)/],
  ['peers with a shell in them', base => JSON.stringify({ ...good(base), peers: ['$(reboot):1'] }), exitCodes.badConfig, /has no valid "peers"/],
  ['a report that is no URL', base => JSON.stringify({ ...good(base), report: 'file:///etc/passwd' }), exitCodes.badConfig, /has no valid "report" \(an http:\/\/ URL, or "" for none\)/],
  ['a torrent that is no http URL', base => JSON.stringify({ ...good(base), torrent: '/etc/shadow' }), exitCodes.badConfig, /has no valid "torrent" \(an http:\/\/ URL\)/],
  ['a config of 100 KB', base => JSON.stringify({ ...good(base), pad: 'x'.repeat(100_000) }), exitCodes.badConfig, /sent over 65536 bytes: that is no config of an ezio server/],
  ['a torrent of 100 MiB', base => JSON.stringify(good(base)), exitCodes.badTorrent, /sent over 67108864 bytes: that is no torrent of an ezio server/]
]

for (const [what, body, code, message] of cases) {
  t.test(`ezio boot refuses a config or torrent from the server: ${what}`, async t => {
    const dir = await tempDir(t)
    const base = await fakeServer(t, body)
    const target = await blankFile(path.join(dir, 'disk.raw'), 4 * 1024 * 1024)
    const before = await sha256(target)
    const r = await ezio(['boot', base, '--id', 'pc-1', '--target', target, '--countdown', '0'])
    t.equal(r.exitCode, code, `exit ${code}`)
    // Without --server-key, ezio boot first says it takes the server unchecked (test/client/server-key.test.ts).
    const lines = r.stderr.trim().split('\n').filter(l => !/^ezio: no server key pinned/.test(l))
    t.equal(lines.length, 1, `one line: ${lines.at(-1)}`)
    t.match(lines.at(-1), message)
    t.equal(await sha256(target), before, 'the target is unchanged')
  })
}
