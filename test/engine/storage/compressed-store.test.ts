import { promises as fs } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { CompressedStore } from '../../../engine/storage/compressed-store.ts'
import { EzioError } from '../../../engine/errors.ts'
import { makeImageTorrent } from '../../../engine/torrent/image-torrent.ts'
import { parseTorrentFile, type TorrentMeta } from '../../../engine/torrent/load.ts'
import { blankFile, compressibleImage, tempDir } from '../../helpers/files.ts'

const MiB = 1024 * 1024

function put (store: CompressedStore, index: number, buf: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => store.put(index, buf, err => err ? reject(err) : resolve()))
}

async function setUp (t: Test): Promise<{ dir: string, image: string, meta: TorrentMeta, payload: Buffer }> {
  const dir = await tempDir(t)
  const image = await compressibleImage(path.join(dir, 'image.raw'), 8 * MiB, 3)
  const out = await fs.open(path.join(dir, 'payload'), 'w')
  const file = await makeImageTorrent(image, { trackers: [], pieceSize: 256 * 1024, compress: { payload: out } })
  await out.close()
  return { dir, image, meta: await parseTorrentFile(file, 'image.torrent'), payload: await fs.readFile(path.join(dir, 'payload')) }
}

function pieceOf (meta: TorrentMeta, payload: Buffer, i: number): Buffer {
  return payload.subarray(i * meta.pieceLength, Math.min(payload.length, (i + 1) * meta.pieceLength))
}

t.test('pieces put in any order land at their raw offsets; pieces asked for are the torrent\'s, kept or re-made', async t => {
  const { dir, image, meta, payload } = await setUp(t)
  const target = await fs.open(await blankFile(path.join(dir, 'target.raw'), 8 * MiB), 'r+')
  t.teardown(() => target.close())
  const store = new CompressedStore(meta.pieceLength, { disk: target, map: meta.compressed!, pieceHashes: meta.pieces, length: meta.length })
  const order = meta.pieces.map((_h, i) => i).reverse()
  for (const i of order) await put(store, i, pieceOf(meta, payload, i))
  t.ok((await fs.readFile(path.join(dir, 'target.raw'))).equals(await fs.readFile(image)), 'the target holds the image')
  for (const i of [0, order.length - 1]) t.ok((await store.readPiece(i)).equals(pieceOf(meta, payload, i)), `piece ${i} as kept`)

  const fresh = new CompressedStore(meta.pieceLength, { disk: target, map: meta.compressed!, pieceHashes: meta.pieces, length: meta.length })
  for (const i of meta.pieces.keys()) t.ok((await fresh.readPiece(i)).equals(pieceOf(meta, payload, i)), `piece ${i} re-made from the disk`)
  t.equal(fresh.unreproducible, 0)

  // A disk that no longer holds a piece's bytes cannot re-make it: it is not offered.
  await target.write(Buffer.alloc(4096, 0x77), 0, 4096, 0)
  const changed = new CompressedStore(meta.pieceLength, { disk: target, map: meta.compressed!, pieceHashes: meta.pieces, length: meta.length })
  await t.rejects(changed.readPiece(0), /piece 0 cannot be re-made from the disk/)
  t.equal(changed.unreproducible, 1)
})

t.test('a verified piece that decompresses to more or fewer bytes than the mapping gives it is a corrupt torrent, and nothing lands past its bytes', async t => {
  const { dir, meta, payload } = await setUp(t)
  const map = meta.compressed!
  const [p0, p1] = map.pieces
  // The mapping moves 4096 raw bytes from piece 0 to piece 1: the sums still agree.
  const shrunk = { ...map, pieces: [{ ...p0!, rawLength: p0!.rawLength - 4096 }, { ...p1!, rawStart: p1!.rawStart - 4096, rawLength: p1!.rawLength + 4096 }, ...map.pieces.slice(2)] }
  const file = await blankFile(path.join(dir, 'target.raw'), 8 * MiB)
  const target = await fs.open(file, 'r+')
  t.teardown(() => target.close())
  const store = new CompressedStore(meta.pieceLength, { disk: target, map: shrunk, pieceHashes: meta.pieces, length: meta.length })
  const err = await put(store, 0, pieceOf(meta, payload, 0)).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof EzioError && err.kind === 'badTorrent', `a corrupt torrent: ${String(err)}`)
  const written = await fs.readFile(file)
  t.ok(written.subarray(p0!.rawLength - 4096).every(b => b === 0), 'nothing written past the bytes the mapping gives piece 0')
  const again = await put(store, 1, pieceOf(meta, payload, 1)).then(() => undefined, (e: unknown) => e)
  t.ok(again instanceof EzioError && again.kind === 'badTorrent', `fewer bytes than due: ${String(again)}`)
})
