import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ext4Dump, ext4WithFiles, fsck, gptImage, sgdiskVerify } from '../../helpers/disks.ts'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, compressibleImage, sha256, tempDir } from '../../helpers/files.ts'
import { loopDevice } from '../../helpers/loop.ts'
import { startSeeder } from '../../helpers/swarm.ts'

const MiB = 1024 * 1024

// The used blocks of a GPT disk, compressed: less travels than the used
// blocks, and the clone (onto a bigger loop device) checks clean with every file the same.
t.test('a whole disk\'s used blocks travel compressed and clone to a clean filesystem with the same files', async t => {
  const dir = await tempDir(t)
  const disk = path.join(dir, 'disk.img')
  const [ext] = await gptImage(disk, 512 * MiB, [{ bytes: 400 * MiB, code: '8300' }])
  const files = await Promise.all([1, 2, 3, 4].map(i => compressibleImage(path.join(dir, `e${i}`), 12 * MiB + i * 4099, i)))
  await ext4WithFiles(t, disk, ext!, files)

  const plain = await ezio(['create', disk, '--used-blocks', '-o', path.join(dir, 'plain.torrent'), '--quiet'])
  t.equal(plain.exitCode, 0, plain.stderr)
  const usedPayload = Number(/^payload +(\d+) bytes/m.exec(plain.stderr)?.[1])
  const torrent = path.join(dir, 'disk.torrent')
  const created = await ezio(['create', disk, '--used-blocks', '--compress', '-o', torrent, '--quiet'])
  t.equal(created.exitCode, 0, created.stderr)
  const payload = Number(/^payload +(\d+) bytes \([\d.]+ MB\): /m.exec(created.stderr)?.[1])
  t.ok(payload < 0.6 * usedPayload, `compressed payload ${payload} against ${usedPayload} used-block bytes`)

  const targetFile = await blankFile(path.join(dir, 'target.img'), 1024 * MiB)
  const target = await loopDevice(t, targetFile)
  const seeder = await startSeeder(t, torrent, disk)
  const cloned = await ezio(['clone', torrent, target, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'none'], { timeout: 300_000 })
  t.equal(cloned.exitCode, 0, cloned.stderr)
  t.ok((await sgdiskVerify(targetFile)).clean, 'the GPT was rebuilt for the bigger disk')
  const r = await fsck(t, targetFile, ext!, 'ext4')
  t.equal(r.exitCode, 0, `fsck passes: ${r.output}`)
  const out = path.join(dir, 'out')
  await fs.mkdir(out)
  await ext4Dump(t, targetFile, ext!, files.map(f => path.basename(f)), out)
  for (const f of files) t.equal(await sha256(path.join(out, path.basename(f))), await sha256(f), `${path.basename(f)} is the same on the clone`)
  t.equal((await ezio(['verify', torrent, target])).exitCode, 0, 'ezio verify passes')
})
