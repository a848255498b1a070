import bencode from 'bencode'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { COMPRESSED_KEY } from '../../../engine/compress/mapping.ts'
import { EzioError } from '../../../engine/errors.ts'
import { makeImageTorrent } from '../../../engine/torrent/image-torrent.ts'
import { parseTorrentFile } from '../../../engine/torrent/load.ts'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, tempDir } from '../../helpers/files.ts'

const MiB = 1024 * 1024

type Info = Record<string, unknown> & { [COMPRESSED_KEY]: Record<string, unknown> }

async function compressedTorrent (t: Test): Promise<{ dir: string, file: Uint8Array }> {
  const dir = await tempDir(t)
  const image = path.join(dir, 'image.raw')
  // Half words, half zeros: a few pieces of 256 KiB.
  await fs.writeFile(image, Buffer.concat([Buffer.from('ezio clones disks '.repeat(200_000)), Buffer.alloc(4 * MiB)]))
  return { dir, file: await makeImageTorrent(image, { trackers: [], pieceSize: 256 * 1024, compress: {} }) }
}

function tamper (file: Uint8Array, change: (info: Info) => void): Uint8Array {
  const torrent = bencode.decode(file) as { info: Info }
  change(torrent.info)
  return bencode.encode(torrent)
}

async function rejects (t: Test, file: Uint8Array, message: RegExp): Promise<void> {
  const err = await parseTorrentFile(file, 'x.torrent').then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof EzioError && err.kind === 'badTorrent', `a bad torrent: ${String(err)}`)
  t.match((err as Error | undefined)?.message, message)
}

t.test('the mapping is read back as written', async t => {
  const { file } = await compressedTorrent(t)
  const meta = await parseTorrentFile(file, 'x.torrent')
  const map = meta.compressed!
  t.equal(map.codec, 'zstd')
  t.equal(map.level, 3)
  t.equal(map.rawLength, 3_600_000 + 4 * MiB)
  t.same(meta.layout.extents, [{ torrentOffset: 0, diskOffset: 0, length: map.rawLength }])
  t.equal(meta.layout.end, map.rawLength, 'the smallest target holds the raw image')
  t.ok(meta.length < map.rawLength / 4, `payload ${meta.length} of ${map.rawLength}`)
  t.equal(map.pieces.reduce((sum, p) => sum + p.rawLength, 0), map.rawLength)
})

t.test('a corrupt mapping is a corrupt torrent, never bytes at a wrong place', async t => {
  const { file } = await compressedTorrent(t)
  const runs = (info: Info): Buffer => Buffer.from(info[COMPRESSED_KEY].runs as Uint8Array)
  const pieces = (info: Info): Buffer => Buffer.from(info[COMPRESSED_KEY].pieces as Uint8Array)
  await rejects(t, tamper(file, info => { info[COMPRESSED_KEY].codec = 'lz4' }), /codec "lz4"/)
  await rejects(t, tamper(file, info => {
    // Two runs over the same disk bytes.
    const one = runs(info)
    const half = one.readBigUInt64BE(8) / 2n
    const two = Buffer.alloc(32)
    two.writeBigUInt64BE(0n, 0); two.writeBigUInt64BE(half + 1n, 8); two.writeBigUInt64BE(half, 16); two.writeBigUInt64BE(half - 1n, 24)
    info[COMPRESSED_KEY].runs = two
  }), /overlap/)
  await rejects(t, tamper(file, info => {
    const p = pieces(info)
    p.writeBigUInt64BE(p.readBigUInt64BE(0) + 1n, 0)
    info[COMPRESSED_KEY].pieces = p
  }), /raw bytes past the end|maps \d+ raw bytes/)
  await rejects(t, tamper(file, info => {
    const p = pieces(info)
    p.writeUInt32BE(256 * 1024 + 1, 8)
    info[COMPRESSED_KEY].pieces = p
  }), /more compressed bytes than the piece holds/)
  await rejects(t, tamper(file, info => { info[COMPRESSED_KEY].pieces = pieces(info).subarray(32) }), /does not describe the torrent's \d+ pieces/)
  await rejects(t, tamper(file, info => { info.files = [{ length: (info.files as { length: number }[])[0]!.length, path: [Buffer.from('0')] }] }), /not one \.ezio-zstd file/)
})

t.test('a torrent stripped of its mapping is an unknown layout: ezio clone exits 3 before the target is touched', async t => {
  const { dir, file } = await compressedTorrent(t)
  const stripped = path.join(dir, 'stripped.torrent')
  await fs.writeFile(stripped, tamper(file, info => { delete (info as Record<string, unknown>)[COMPRESSED_KEY] }))
  const target = await blankFile(path.join(dir, 'target.raw'), 16 * MiB)
  const r = await ezio(['clone', stripped, target, '--progress', 'none'])
  t.equal(r.exitCode, 3, r.stderr)
  t.match(r.stderr, /holds compressed pieces \(\.ezio-zstd\) but no ezio-compressed mapping/)
  t.equal((await fs.stat(target)).blocks, 0, 'nothing was written')
})
