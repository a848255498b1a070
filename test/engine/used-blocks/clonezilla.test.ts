import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import bencode from 'bencode'
import { ext4Dump, ext4WithFiles, fsck, gptImage, gptPartitions } from '../../helpers/disks.ts'
import { clonezillaGenerator, genTorrentFromPtcl } from '../../helpers/clonezilla.ts'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { withLoopDevice } from '../../helpers/loop.ts'
import { startSeeder } from '../../helpers/swarm.ts'

const MiB = 1024 * 1024

// A torrent in Clonezilla's BitTorrent layout, made by Clonezilla's own
// gen-torrent-from-ptcl: partclone's torrent.info (runs and 16 MiB piece
// hashes, computed by partclone) turned into files PART/<32 hex digits>.
// No ezio code builds it; ezio must clone it.
t.test('a Clonezilla torrent made from partclone -t clones with ezio', async t => {
  const dir = await tempDir(t)
  const generator = await clonezillaGenerator(t)
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
  await genTorrentFromPtcl(generator, path.join(bt, 'torrent.info'), 'sda1', torrent)

  const decoded = bencode.decode(await fs.readFile(torrent)) as { info: { 'piece length': number, private?: number, files: { path: Uint8Array[] }[] } }
  t.equal(decoded.info['piece length'], 16 * MiB, '16 MiB pieces')
  t.notOk(decoded.info.private, 'not private')
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

// One torrent of a disk's two partitions, its files sda1/<hex> and sda2/<hex>
// with offsets within each partition, as a Clonezilla image directory keeps
// them. The target's own table says where each partition lies: here not
// where the source had them, so only placement by that table puts the blocks
// where they belong. A target without such a table is refused, unchanged.
t.test('a Clonezilla torrent of two partitions clones each onto its partition of the target\'s table', async t => {
  const dir = await tempDir(t)
  const disk = path.join(dir, 'sda.img')
  const parts = await gptImage(disk, 160 * MiB, [{ bytes: 64 * MiB, code: '8300' }, { bytes: 48 * MiB, code: '8300' }])
  const names = [['a1', 'a2', 'a3'], ['b1', 'b2']]
  const files = await Promise.all(names.map(list => Promise.all(list.map((n, i) => randomImage(path.join(dir, n), 3 * MiB + i * 4099)))))
  // Each partition's used blocks as partclone -T writes them for Clonezilla
  // (slice files named by offset), under one directory per partition; the
  // torrent of that tree made by libtorrent, as any client makes one.
  const zone = path.join(dir, 'sda')
  await fs.mkdir(zone)
  for (const [i, part] of parts.entries()) {
    await ext4WithFiles(t, disk, part, files[i]!)
    await withLoopDevice(t, disk, { offset: part.offset, sizelimit: part.size }, async dev => {
      await execa('partclone.ext4', ['-c', '-q', '-s', dev, '-o', path.join(dir, `sda${part.number}.pcl`)])
    })
    const slices = path.join(zone, `sda${part.number}`)
    await execa('partclone.ext4', ['-r', '-q', '-T', '-s', path.join(dir, `sda${part.number}.pcl`), '-o', slices])
    await fs.rm(path.join(slices, 'torrent.info'))
  }
  const torrent = path.join(dir, 'sda.torrent')
  await libtorrentTorrentOf(zone, torrent)

  const targetFile = path.join(dir, 'target.img')
  const target = await gptImage(targetFile, 256 * MiB, [{ bytes: 80 * MiB, code: '8300' }, { bytes: 64 * MiB, code: '8300' }, { bytes: 16 * MiB, code: '0700' }])
  t.not(target[1]!.offset, parts[1]!.offset, 'partition 2 lies elsewhere on the target than on the source')

  const seeder = await startSeeder(t, torrent, disk)
  const r = await ezio(['clone', torrent, targetFile, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'none'], { timeout: 180_000 })
  t.equal(r.exitCode, 0, r.stderr)
  for (const [i, part] of target.slice(0, 2).entries()) {
    const checked = await fsck(t, targetFile, part, 'ext4')
    t.equal(checked.exitCode, 0, `e2fsck passes on partition ${part.number} of the clone: ${checked.output}`)
    const out = await fs.mkdtemp(path.join(dir, 'out-'))
    await ext4Dump(t, targetFile, part, names[i]!, out)
    for (const [j, n] of names[i]!.entries()) t.equal(await sha256(path.join(out, n)), await sha256(files[i]![j]!), `${n} is the same on partition ${part.number}`)
  }
  t.equal((await ezio(['verify', torrent, targetFile])).exitCode, 0, 'ezio verify places the partitions the same way')

  const blank = await blankFile(path.join(dir, 'blank.img'), 256 * MiB)
  const before = await sha256(blank)
  const r1 = await ezio(['clone', torrent, blank, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'none'])
  t.equal(r1.exitCode, 16, r1.stderr)
  t.match(r1.stderr, /^ezio: the torrent holds partitions sda1, sda2, placed by the disk's partition table, but .* has none: write the image's partition table onto .* first/m)
  t.equal(r1.stderr.trim().split('\n').length, 1, 'one line')
  t.equal(await sha256(blank), before, 'the blank target is unchanged')
  const one = path.join(dir, 'one.img')
  await gptImage(one, 256 * MiB, [{ bytes: 100 * MiB, code: '8300' }])
  const r2 = await ezio(['verify', torrent, one])
  t.equal(r2.exitCode, 16, r2.stderr)
  t.match(r2.stderr, /^ezio: the torrent holds sda2, but .* has no partition 2/m)
  const small = path.join(dir, 'small.img')
  await gptImage(small, 256 * MiB, [{ bytes: 24 * MiB, code: '8300' }, { bytes: 80 * MiB, code: '8300' }])
  const smallBefore = await sha256(small)
  const r4 = await ezio(['clone', torrent, small, '--peer', seeder.peer, '--seed-ratio', '0', '--progress', 'none'])
  t.equal(r4.exitCode, 16, r4.stderr)
  t.match(r4.stderr, /^ezio: sda1's blocks run to byte \d+ of the partition, but partition 1 of .* holds 25165824 bytes: write the image's partition table/m)
  t.equal(await sha256(small), smallBefore, 'the target with too small a partition is unchanged')

  await fs.rename(path.join(zone, 'sda2'), path.join(zone, 'sdb2'))
  const twoDisks = path.join(dir, 'two.torrent')
  await libtorrentTorrentOf(zone, twoDisks)
  const r3 = await ezio(['clone', twoDisks, targetFile, '--peer', seeder.peer, '--progress', 'none'])
  t.equal(r3.exitCode, 3, r3.stderr)
  t.match(r3.stderr, /^ezio: the torrent holds partitions of 2 disks \(sda1, sdb2\): a machine clones one disk/m)
})

/** A v1 torrent of DIR's files (DIR/PART/<hex>), made by python3-libtorrent with 16 MiB pieces, as Clonezilla's are. */
async function libtorrentTorrentOf (dir: string, out: string): Promise<void> {
  await execa('/usr/bin/python3', ['-c', [
    'import libtorrent as lt, os, sys',
    'fs = lt.file_storage()',
    'lt.add_files(fs, sys.argv[1])',
    't = lt.create_torrent(fs, 16 * 1024 * 1024, flags=lt.create_torrent.v1_only)',
    'lt.set_piece_hashes(t, os.path.dirname(sys.argv[1]))',
    'open(sys.argv[2], "wb").write(lt.bencode(t.generate()))'
  ].join('\n'), dir, out])
}
