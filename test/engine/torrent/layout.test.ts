import t from 'tap'
import { layoutOf, mapRange } from '../../../engine/torrent/layout.ts'

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
