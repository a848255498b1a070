import path from 'node:path'
import t from 'tap'
import { exitCodes } from '../../cli/exit-codes.ts'
import { ezio } from '../helpers/ezio.ts'
import { randomImage, tempDir } from '../helpers/files.ts'

t.test('ezio verify on a directory: exit 4 and one line, no stack trace', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'image.raw'), 1024 * 1024)
  const torrent = path.join(dir, 'image.torrent')
  t.equal((await ezio(['create', image, '-o', torrent, '--quiet'])).exitCode, 0)
  const r = await ezio(['verify', torrent, dir])
  t.equal(r.exitCode, exitCodes.targetMissing)
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line on stderr')
  t.match(r.stderr.trim(), /^ezio: target .* is neither a block device nor a regular file: name the disk \(e\.g\. \/dev\/sda\) or an image file$/, `one line: ${r.stderr.trim()}`)
  const missing = await ezio(['verify', torrent, path.join(dir, 'nothing')])
  t.equal(missing.exitCode, exitCodes.targetMissing, 'a missing target: exit 4 too')
  t.equal((await ezio(['verify', torrent, image])).exitCode, 0, 'the image itself verifies')
})
