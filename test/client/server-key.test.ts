import t from 'tap'
import http from 'node:http'
import path from 'node:path'
import type { DeployConfig } from '../../protocol/config.ts'
import { ezio } from '../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { freePort } from '../helpers/net.ts'
import { startServe } from '../helpers/serve.ts'
import { servedInitrd } from '../helpers/served-key.ts'

const SIZE = 8 * 1024 * 1024

t.test('ezio boot with a pinned key: another server\'s config, a changed one, one for another machine, another torrent are refused (exit 17, the disk untouched); its own server\'s is cloned', async t => {
  const dir = await tempDir(t)
  const a = await startServe(t, await randomImage(path.join(dir, 'a.img'), SIZE), path.join(dir, 'state-a'))
  const b = await startServe(t, await randomImage(path.join(dir, 'b.img'), SIZE), path.join(dir, 'state-b'))
  const { pinned } = await servedInitrd(a.url, path.join(dir, 'from-a'))
  const target = await blankFile(path.join(dir, 'pc.disk'), SIZE)
  const blank = await sha256(target)

  // A host answering HTTP on the segment, handing out what it likes.
  const forger = http.createServer((req, res) => {
    void (async () => {
      const [, mode] = /^\/([a-z-]+)\//.exec(req.url ?? '') ?? []
      const mac = mode === 'other-machine' ? 'pc-9' : 'pc-1'
      const config = await (await fetch(`${a.url}/ezio.json?mac=${mac}`)).json() as DeployConfig
      if (mode === 'changed') config.target = '/dev/sda'
      if (mode === 'other-torrent') config.torrent = `${b.url}/ezio.torrent`
      res.end(JSON.stringify(config))
    })()
  })
  const port = await freePort()
  await new Promise<void>(resolve => forger.listen(port, '127.0.0.1', resolve))
  t.teardown(() => { forger.close() })

  const boot = (server: string, key: string[] = ['--server-key', pinned]): ReturnType<typeof ezio> =>
    ezio(['boot', server, ...key, '--target', target, '--id', 'pc-1', '--countdown', '0'])
  const cases: Array<[string, string, RegExp]> = [
    ['server B', b.url, /ezio\.json\?mac=pc-1 sent a config not signed by this machine's server; this machine booted from ezio serve on \S+, key SHA256:\S+: refusing it/],
    ['A\'s config with its target changed', `http://127.0.0.1:${port}/changed`, /not signed by this machine's server/],
    ['A\'s config for another machine', `http://127.0.0.1:${port}/other-machine`, /sent a config signed for pc-9, not for pc-1/],
    ['A\'s config pointing at B\'s torrent', `http://127.0.0.1:${port}/other-torrent`, /the torrent from \S+ \(info hash [0-9a-f]{40}\) is not the one ezio serve on \S+, key SHA256:\S+ signed \([0-9a-f]{40}\): refusing it/]
  ]
  for (const [what, server, why] of cases) {
    const r = await boot(server)
    t.equal(r.exitCode, 17, `${what}: exit 17`)
    t.match(r.stderr, why, `${what}: says why`)
    t.equal(r.stderr.trim().split('\n').filter(l => /refusing it/.test(l)).length, 1, `${what}: in one line`)
    t.equal(await sha256(target), blank, `${what}: the disk is untouched`)
  }

  const own = await boot(a.url)
  t.equal(own.exitCode, 0, `its own server's config is cloned: ${own.stderr.split('\n').slice(-3).join(' / ')}`)
  t.equal(await sha256(target), await sha256(path.join(dir, 'a.img')), 'the disk holds A\'s image')

  const unpinned = await boot(b.url, [])
  t.equal(unpinned.exitCode, 0, 'with no pinned key any server is taken')
  t.match(unpinned.stderr, /no server key pinned .*: accepting \S+ unchecked/, 'and ezio boot says so')
  t.equal(await sha256(target), await sha256(path.join(dir, 'b.img')))
})
