import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ezio } from '../helpers/ezio.ts'
import { compressibleImage, tempDir } from '../helpers/files.ts'

t.test('ezio create --compress: a failed create leaves no half payload; --level and --payload need --compress', async t => {
  const dir = await tempDir(t)
  const payload = path.join(dir, 'image.payload')
  const missing = await ezio(['create', path.join(dir, 'missing.raw'), '-o', path.join(dir, 'x.torrent'), '--compress', '--payload', payload])
  t.equal(missing.exitCode, 12, missing.stderr)
  await t.rejects(fs.stat(payload), { code: 'ENOENT' }, 'no payload file left behind')
  const image = await compressibleImage(path.join(dir, 'image.raw'), 4 * 1024 * 1024)
  t.equal((await ezio(['create', image, '-o', path.join(dir, 'y.torrent'), '--payload', payload])).exitCode, 2, '--payload alone is a usage error')
  t.equal((await ezio(['create', image, '-o', path.join(dir, 'y.torrent'), '--compress', '--level', '30'])).exitCode, 2, 'a level past 19 is a usage error')
  const made = await ezio(['create', image, '-o', path.join(dir, 'y.torrent'), '--compress', '--level', '9', '--payload', payload])
  t.equal(made.exitCode, 0, made.stderr)
  t.match(made.stderr, /^zstd +level 9, /m)
  t.equal((await fs.stat(payload)).size, Number(/^payload +(\d+) bytes/m.exec(made.stderr)?.[1]), 'the payload is as long as the summary says')
})

t.test('ezio create -o into a missing directory: refused before the image is hashed (exit 7), nothing written', async t => {
  const dir = await tempDir(t)
  const image = await compressibleImage(path.join(dir, 'image.raw'), 64 * 1024 * 1024)
  const payload = path.join(dir, 'p.zst')
  const started = Date.now()
  const r = await ezio(['create', image, '-o', path.join(dir, 'no', 'such', 'x.torrent'), '--compress', '--payload', payload])
  t.equal(r.exitCode, 7)
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line on stderr')
  t.match(r.stderr.trim(), /^ezio: ezio create: cannot write .*\/no\/such\/x\.torrent \(ENOENT\): make its directory, or name another place$/, 'one line')
  t.notMatch(r.stderr, /compressing|hashing/, 'no hashing began')
  t.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`)
  await t.rejects(fs.stat(payload), { code: 'ENOENT' }, 'no payload begun')
})
