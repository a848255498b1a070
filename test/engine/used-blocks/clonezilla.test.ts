import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import bencode from 'bencode'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { root } from '../../helpers/paths.ts'
import { startSeeder } from '../../helpers/swarm.ts'

const MiB = 1024 * 1024
const generator = path.join(root, 'test/fixtures/gen-torrent-from-ptcl.py')

// A torrent in Clonezilla's BitTorrent layout, made the way its
// gen-torrent-from-ptcl makes it: partclone's torrent.info (runs and 16 MiB
// piece hashes, computed by partclone) turned into files PART/<32 hex digits>.
// No ezio code builds it; ezio must clone it.
t.test('a Clonezilla torrent made from partclone -t clones with ezio', async t => {
  const dir = await tempDir(t)
  const part = await blankFile(path.join(dir, 'sda1.img'), 64 * MiB)
  await execa('mkfs.ext4', ['-q', '-F', part])
  const files = await Promise.all([1, 2, 3].map(i => randomImage(path.join(dir, `f${i}`), 5 * MiB + i * 1001)))
  for (const f of files) await execa('debugfs', ['-w', '-R', `write ${f} ${path.basename(f)}`, part])

  const pcl = path.join(dir, 'sda1.pcl')
  const bt = path.join(dir, 'btzone')
  await fs.mkdir(bt)
  await execa('partclone.ext4', ['-c', '-q', '-s', part, '-o', pcl])
  await execa('partclone.ext4', ['-r', '-q', '-t', '-s', pcl, '-o', bt])
  const info = await fs.readFile(path.join(bt, 'torrent.info'), 'utf8')
  t.match(info, /^block_size: \d+$/m)
  t.match(info, /^offset: [0-9a-f]{32}$/m)
  const torrent = path.join(dir, 'sda1.torrent')
  await execa('/usr/bin/python3', [generator, path.join(bt, 'torrent.info'), 'sda1', torrent])

  const decoded = bencode.decode(await fs.readFile(torrent)) as { info: { 'piece length': number, private?: number, files: { path: Uint8Array[] }[] } }
  t.equal(decoded.info['piece length'], 16 * MiB, '16 MiB pieces')
  t.equal(decoded.info.private, undefined, 'not private')
  t.ok(decoded.info.files.length > 5, `${decoded.info.files.length} runs, split as partclone splits them`)
  t.ok(decoded.info.files.every(f => /^[0-9a-f]{32}$/.test(Buffer.from(f.path[0]!).toString())), 'files named by 32 hex digits')

  const target = await blankFile(path.join(dir, 'target.img'), 64 * MiB)
  const seeder = await startSeeder(t, torrent, part)
  const r = await ezio(['clone', torrent, target, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'none'], { timeout: 180_000 })
  t.equal(r.exitCode, 0, r.stderr)
  const checked = await execa('e2fsck', ['-f', '-n', target], { reject: false })
  t.equal(checked.exitCode, 0, `e2fsck passes on the clone: ${checked.stdout}`)
  for (const f of files) {
    const out = path.join(dir, `out-${path.basename(f)}`)
    await execa('debugfs', ['-R', `dump ${path.basename(f)} ${out}`, target])
    t.equal(await sha256(out), await sha256(f), `${path.basename(f)} is the same on the clone`)
  }
  // mkfs on a sparse file leaves every block partclone calls unused as zeros,
  // so the blank target now equals the source byte for byte.
  t.equal(await sha256(target), await sha256(part), 'the clone equals the partition image')
  t.equal((await ezio(['verify', torrent, target])).exitCode, 0, 'ezio verify agrees with partclone\'s hashes')
})
