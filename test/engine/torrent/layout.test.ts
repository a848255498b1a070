import t from 'tap'
import { diskExtents, layoutOf, mapRange } from '../../../engine/torrent/layout.ts'

t.test('a single-file torrent is a raw image at offset 0', async t => {
  const l = layoutOf([{ path: 'disk.img', length: 1000, offset: 0 }], false)
  t.same(l.extents, [{ torrentOffset: 0, diskOffset: 0, length: 1000 }])
  t.equal(l.end, 1000)
})

t.test('files named by hex offsets land at their offsets; the end is the last byte used', async t => {
  const l = layoutOf([
    { path: 'img/sda1/0000000000000000000000000000a000', length: 4096, offset: 0 },
    { path: 'img/sda1/00000000000000000000000000100000', length: 8192, offset: 4096 }
  ], true)
  t.same(l.extents.map(e => e.diskOffset), [0xa000, 0x100000])
  t.equal(l.end, 0x100000 + 8192)
  t.equal(l.length, 4096 + 8192)
  // A range that straddles both runs is split at the run boundary.
  t.same([...mapRange(l.extents, 4000, 200)], [
    { diskOffset: 0xa000 + 4000, bufferOffset: 0, length: 96 },
    { diskOffset: 0x100000, bufferOffset: 96, length: 104 }
  ])
})

t.test('other multi-file torrents and overlapping runs are refused as bad torrents', async t => {
  t.throws(() => layoutOf([{ path: 'photos/cat.jpg', length: 1, offset: 0 }], true), { name: 'EzioError', kind: 'badTorrent', message: /hexadecimal disk offset/ })
  t.throws(() => layoutOf([
    { path: 'x/1000', length: 0x2000, offset: 0 },
    { path: 'x/2000', length: 10, offset: 0x2000 }
  ], true), { kind: 'badTorrent', message: /overlap/ })
})

t.test('runs in several partition directories wait for the target\'s table; other directories are refused', async t => {
  const hex = (n: number): string => n.toString(16).padStart(32, '0')
  const l = layoutOf([
    { path: 'disk/nvme0n1p2/' + hex(0x1000), length: 4096, offset: 0 },
    { path: 'disk/nvme0n1p1/' + hex(0), length: 512, offset: 4096 },
    { path: 'disk/nvme0n1p2/' + hex(0x8000), length: 100, offset: 4608 }
  ], true)
  t.same(l.partitions?.map(p => [p.dir, p.number, p.end]), [['nvme0n1p1', 1, 512], ['nvme0n1p2', 2, 0x8000 + 100]], 'by number, each with its own end')
  t.same(l.extents, [], 'no disk offsets before the table is read')
  t.equal(l.end, 0x8000 + 100, 'the least a target holds')
  t.throws(() => diskExtents(l), { kind: 'internal', message: /not placed/ })
  t.throws(() => layoutOf([
    { path: 'disk/sda1/0', length: 1, offset: 0 },
    { path: 'disk/home/0', length: 1, offset: 1 }
  ], true), { kind: 'badTorrent', message: /"home" names no partition/ })
  t.throws(() => layoutOf([
    { path: 'disk/sda0/0', length: 1, offset: 0 },
    { path: 'disk/sda1/0', length: 1, offset: 1 }
  ], true), { kind: 'badTorrent', message: /partition 0/ })
  t.throws(() => layoutOf([
    { path: 'disk/sda1/0', length: 10, offset: 0 },
    { path: 'disk/sda1/5', length: 10, offset: 10 },
    { path: 'disk/sda2/0', length: 1, offset: 20 }
  ], true), { kind: 'badTorrent', message: /offsets in sda1 0 and 5 overlap/ })
  // Runs of two partitions may share offsets: each is within its own partition.
  t.ok(layoutOf([{ path: 'disk/vda1/0', length: 10, offset: 0 }, { path: 'disk/vda2/0', length: 10, offset: 10 }], true).partitions)
})
