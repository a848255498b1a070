import bencode from 'bencode'
import t from 'tap'
import { layoutOf } from '../../../engine/torrent/layout.ts'
import { decodeLayoutRecord, encodeLayoutRecord, type LayoutRecord } from '../../../engine/torrent/layout-record.ts'

const MiB = 1024 * 1024

const record: LayoutRecord = {
  version: 1,
  table: 'mbr',
  diskSize: 100 * MiB,
  sectorSize: 512,
  diskDir: 'disk',
  partitions: [
    { dir: 'part1', number: 1, offset: MiB, size: 40 * MiB, fs: 'ext4', blocks: 'partclone' },
    { dir: 'part5', number: 5, offset: 50 * MiB, size: 30 * MiB, fs: '', blocks: 'nonzero' }
  ]
}

// Through bencode and back, as a torrent file carries it.
function roundTrip (r: LayoutRecord): LayoutRecord | undefined {
  const info = bencode.decode(bencode.encode({ 'ezio-layout': encodeLayoutRecord(r) })) as Record<string, unknown>
  return decodeLayoutRecord(info)
}

t.test('the record survives bencode', async t => {
  t.same(roundTrip(record), { ...record, gpt: undefined })
  t.equal(decodeLayoutRecord({ name: 'x' }), undefined, 'no record, no layout')
})

t.test('with a record, runs land at partition offset + run offset; disk runs at their own offset', async t => {
  const l = layoutOf([
    { path: 'sda.img/disk/' + '0'.repeat(32), length: 512, offset: 0 },
    { path: 'sda.img/part1/' + (0x400).toString(16).padStart(32, '0'), length: 4096, offset: 512 },
    { path: 'sda.img/part5/' + (0x10000).toString(16).padStart(32, '0'), length: 8192, offset: 4608 }
  ], true, roundTrip(record))
  t.same(l.extents.map(e => e.diskOffset), [0, MiB + 0x400, 50 * MiB + 0x10000])
  t.equal(l.end, 80 * MiB, 'the smallest target holds every partition whole, not just its used blocks')
})

t.test('without a record (ezio upstream, Clonezilla), offsets stay relative to the target', async t => {
  const l = layoutOf([{ path: 'sda1/' + (0x400).toString(16).padStart(32, '0'), length: 4096, offset: 0 }], true)
  t.same(l.extents.map(e => e.diskOffset), [0x400])
})

t.test('runs outside the record are refused as a corrupt torrent', async t => {
  t.throws(() => layoutOf([{ path: 'sda.img/part9/0', length: 1, offset: 0 }], true, record), { kind: 'badTorrent', message: /no partition its layout record names/ })
  t.throws(() => layoutOf([{ path: 'sda.img/part1/' + (40 * MiB - 10).toString(16), length: 11, offset: 0 }], true, record), { kind: 'badTorrent', message: /past the end of partition 1/ })
  t.throws(() => roundTrip({ ...record, version: 2 as 1 }), { kind: 'badTorrent', message: /version 2/ })
})
