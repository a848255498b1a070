import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { startSeeder } from '../../helpers/swarm.ts'

const MiB = 1024 * 1024

async function cloneVia (t: Test, torrent: string, image: string, target: string): Promise<void> {
  const seeder = await startSeeder(t, torrent, image)
  const r = await ezio(['clone', torrent, target, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'none'], { timeout: 180_000 })
  t.equal(r.exitCode, 0, r.stderr)
}

// An ext4 left "not clean" (a machine switched off while it was mounted):
// partclone refuses to map it, so the whole partition travels, and the clone
// is the source byte for byte even over a target full of old data.
t.test('a filesystem partclone cannot read travels whole and clones byte-exact', async t => {
  const dir = await tempDir(t)
  const part = await randomImage(path.join(dir, 'part.img'), 64 * MiB)
  await execa('mkfs.ext4', ['-q', '-F', part])
  const file = await randomImage(path.join(dir, 'data'), 3 * MiB)
  await execa('debugfs', ['-w', '-R', `write ${file} data`, part])
  await execa('debugfs', ['-w', '-R', 'ssv state 0', part])
  const refused = await execa('partclone.ext4', ['-D', '-q', '-s', part, '-O', path.join(dir, 'domain'), '-L', path.join(dir, 'log')], { reject: false })
  t.not(refused.exitCode, 0, 'partclone itself refuses this filesystem')

  const torrent = path.join(dir, 'part.torrent')
  const created = await ezio(['create', part, '--used-blocks', '-o', torrent])
  t.equal(created.exitCode, 0, created.stderr)
  t.match(created.stderr, /ext4, .*\(whole\); partclone cannot read it \(.*not cleanly unmounted.*\)/)
  t.match(created.stderr, new RegExp(`^payload +${64 * MiB} bytes`, 'm'), 'the payload is the whole partition')

  const target = await randomImage(path.join(dir, 'target.img'), 64 * MiB)
  await cloneVia(t, torrent, part, target)
  t.equal(await sha256(target), await sha256(part), 'the clone equals the source byte for byte')
})

// No filesystem at all: the blocks holding anything but zeros travel.
t.test('a partition partclone does not know sends its non-zero blocks', async t => {
  const dir = await tempDir(t)
  const part = await blankFile(path.join(dir, 'raw.img'), 64 * MiB)
  const chunk = await randomImage(path.join(dir, 'chunk'), MiB + 100)
  const fh = await fs.open(part, 'r+')
  const data = await fs.readFile(chunk)
  for (const at of [0, 5 * MiB + 7, 40 * MiB]) await fh.write(data, 0, data.length, at)
  await fh.close()

  const torrent = path.join(dir, 'raw.torrent')
  const created = await ezio(['create', part, '--used-blocks', '-o', torrent])
  t.equal(created.exitCode, 0, created.stderr)
  t.match(created.stderr, /unknown, .*\(nonzero\); no filesystem found: its non-zero blocks travel/)
  const payload = Number(/^payload +(\d+) bytes/m.exec(created.stderr)?.[1])
  t.ok(payload >= 3 * (MiB + 100) && payload <= 3 * (MiB + 100) + 6 * 64 * 1024, `the payload (${payload}) is the written chunks, rounded to 64 KiB blocks`)

  const target = await blankFile(path.join(dir, 'target.img'), 64 * MiB)
  await cloneVia(t, torrent, part, target)
  t.equal(await sha256(target), await sha256(part), 'the clone of a blank target equals the source')
})
