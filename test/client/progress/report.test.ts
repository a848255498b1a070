import path from 'node:path'
import t from 'tap'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { freePort } from '../../helpers/net.ts'
import { startServe } from '../../helpers/serve.ts'

const SIZE = 8 * 1024 * 1024

t.test('a report URL that keeps failing is said once on the console and in the summary; the clone goes on', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'disk.img'), SIZE)
  // A server's seeder at 2 MB/s: the clone takes a few seconds, a report each.
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--upload-limit', '2'])
  const target = await blankFile(path.join(dir, 'target.disk'), SIZE)
  const dead = `http://127.0.0.1:${await freePort()}/api/status?token=x`
  const r = await ezio(['clone', `${srv.url}/disk.torrent`, target, '--peer', `127.0.0.1:${srv.btPort}`, '--seed-ratio', '0', '--report', dead, '--id', 'pc-1'])
  t.equal(r.exitCode, 0, 'the clone is done all the same')
  t.equal(await sha256(target), await sha256(image))
  const said = r.stderr.split('\n').filter(l => /reports to/.test(l))
  t.equal(said.filter(l => l.startsWith('ezio: reports to http://127.0.0.1')).length, 1, `said once: ${said[0]}`)
  t.match(said[0], /fail \(ECONNREFUSED\): the dashboard does not see this machine; the clone goes on$/)
  t.match(r.stderr, /^cloned .*; reports to the server failed \(ECONNREFUSED\)$/m, 'and in the summary')
})
