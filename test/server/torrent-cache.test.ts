import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parseTorrentFile } from '../../engine/torrent/load.ts'
import { ext4WithFiles, gptImage } from '../helpers/disks.ts'
import { ezio } from '../helpers/ezio.ts'
import { blankFile, compressibleImage, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { freePort } from '../helpers/net.ts'
import { startServe } from '../helpers/serve.ts'

const MiB = 1024 * 1024

async function servedTorrent (url: string, dir: string): Promise<string> {
  const file = path.join(dir, `served-${Date.now()}.torrent`)
  await fs.writeFile(file, new Uint8Array(await (await fetch(`${url}/ezio.torrent`)).arrayBuffer()))
  return file
}

t.test('ezio serve --used-blocks --compress serves the torrent ezio create makes, seeds its payload, and reuses both after a restart', async t => {
  const dir = await tempDir(t)
  const disk = path.join(dir, 'disk.img')
  const [ext] = await gptImage(disk, 256 * MiB, [{ bytes: 200 * MiB, code: '8300' }])
  await ext4WithFiles(t, disk, ext!, await Promise.all([1, 2].map(i => compressibleImage(path.join(dir, `f${i}`), 16 * MiB, i))))
  const state = path.join(dir, 'state')
  const srv = await startServe(t, disk, state, ['--used-blocks', '--compress'])
  const torrent = await servedTorrent(srv.url, dir)
  const meta = await parseTorrentFile(await fs.readFile(torrent), torrent)
  t.ok(meta.compressed && meta.record, 'the served torrent is compressed and holds the disk\'s layout')
  t.ok((await fs.stat(path.join(state, 'disk.payload'))).size === meta.length, 'the payload is kept under --state')
  const target = await blankFile(path.join(dir, 'target.img'), 256 * MiB)
  const c = await ezio(['clone', torrent, target, '--peer', `127.0.0.1:${srv.btPort}`, '--seed-ratio', '0', '--progress', 'none'], { timeout: 120_000 })
  t.equal(c.exitCode, 0, c.stderr)
  t.equal((await ezio(['verify', torrent, target])).exitCode, 0, 'the clone verifies')
  srv.proc.kill('SIGTERM')
  await srv.exited

  const again = await startServe(t, disk, state, ['--used-blocks', '--compress'])
  t.match(again.stderr(), /reusing the torrent of/, 'a restart reuses the torrent and its payload')
  t.equal((await parseTorrentFile(await fs.readFile(await servedTorrent(again.url, dir)), 'x')).infoHash, meta.infoHash, 'the same torrent')
})

t.test('ezio serve --torrent serves a torrent made beforehand, checked against its image', async t => {
  const dir = await tempDir(t)
  const image = await compressibleImage(path.join(dir, 'image.raw'), 24 * MiB)
  const made = path.join(dir, 'made.torrent')
  t.equal((await ezio(['create', image, '-o', made, '--compress', '--quiet'])).exitCode, 0)
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--torrent', made])
  const torrent = await servedTorrent(srv.url, dir)
  t.equal((await parseTorrentFile(await fs.readFile(torrent), torrent)).infoHash, (await parseTorrentFile(await fs.readFile(made), made)).infoHash, '/ezio.torrent is the torrent given')
  const target = await blankFile(path.join(dir, 'target.raw'), 24 * MiB)
  const c = await ezio(['clone', torrent, target, '--peer', `127.0.0.1:${srv.btPort}`, '--seed-ratio', '0', '--progress', 'none'], { timeout: 120_000 })
  t.equal(c.exitCode, 0, c.stderr)
  t.equal(await sha256(target), await sha256(image), 'the target holds the image')

  const other = await randomImage(path.join(dir, 'other.raw'), 24 * MiB)
  const wrong = await ezio(['serve', other, '--torrent', made, '--state', path.join(dir, 'state2'), '--port', String(await freePort()), '--bt-port', String(await freePort()), '--accept-all'])
  t.equal(wrong.exitCode, 12, 'an image the torrent was not made from is refused')
  t.match(wrong.stderr, /the image does not match the torrent/)
  const both = await ezio(['serve', image, '--torrent', made, '--compress', '--state', path.join(dir, 'state3')])
  t.equal(both.exitCode, 2, 'a given torrent is served as made: --compress does not go with it')
})
