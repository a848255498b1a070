import { promises as fs } from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { DiskStore } from '../../../engine/storage/disk-store.ts'
import { randomImage, tempDir } from '../../helpers/files.ts'

const KiB = 1024
const BLOCK = 16 * KiB

function get (store: DiskStore, index: number, offset: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => store.get(index, { offset, length }, (err, buf) => err ? reject(err) : resolve(Buffer.from(buf!))))
}

function put (store: DiskStore, index: number, buf: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => store.put(index, buf, err => err ? reject(err) : resolve()))
}

t.test('blocks are answered with the disk\'s bytes, through extents, across spans, and anew once a piece is written', async t => {
  const dir = await tempDir(t)
  const pieceLength = 1024 * KiB
  // Three pieces and a short last one, laid on the disk in two runs with a gap
  // between them, as a used-blocks torrent is.
  const length = 3 * pieceLength + 100 * KiB
  const gap = 300 * KiB
  const file = await randomImage(path.join(dir, 'disk.raw'), length + gap)
  const extents = [
    { torrentOffset: 0, diskOffset: 0, length: pieceLength + 50 * KiB },
    { torrentOffset: pieceLength + 50 * KiB, diskOffset: pieceLength + 50 * KiB + gap, length: length - pieceLength - 50 * KiB }
  ]
  const bytes = await fs.readFile(file)
  const at = (torrentOffset: number, n: number): Buffer => {
    const first = extents[0]!
    const parts: Buffer[] = []
    for (let o = torrentOffset; o < torrentOffset + n; o++) {
      parts.push(bytes.subarray(o < first.length ? o : o + gap, (o < first.length ? o : o + gap) + 1))
    }
    return Buffer.concat(parts)
  }
  const disk = await fs.open(file, 'r+')
  t.teardown(() => disk.close())
  const store = new DiskStore(pieceLength, { disk, extents, length })

  const lastLength = length - 3 * pieceLength
  const asks: Array<[number, number, number]> = []
  for (let piece = 0; piece < 4; piece++) {
    const size = piece === 3 ? lastLength : pieceLength
    for (let offset = 0; offset < size; offset += BLOCK) asks.push([piece, offset, Math.min(BLOCK, size - offset)])
  }
  // Asked all at once, in a shuffled order, as several peers would.
  asks.sort(() => Math.random() - 0.5)
  const got = await Promise.all(asks.map(([piece, offset, n]) => get(store, piece, offset, n)))
  let wrong = 0
  asks.forEach(([piece, offset, n], i) => { if (!got[i]!.equals(at(piece * pieceLength + offset, n))) wrong++ })
  t.equal(wrong, 0, `every one of ${asks.length} blocks is the disk's bytes`)

  t.ok((await get(store, 1, 200 * KiB, 100 * KiB)).equals(at(pieceLength + 200 * KiB, 100 * KiB)), 'a read across two spans and the gap between runs')

  const fresh = randomBytes(pieceLength)
  await get(store, 2, 0, BLOCK)
  await put(store, 2, fresh)
  t.ok((await get(store, 2, 0, BLOCK)).equals(fresh.subarray(0, BLOCK)), 'a block read again after its piece was written is the new data')
  t.ok((await get(store, 2, pieceLength - BLOCK, BLOCK)).equals(fresh.subarray(pieceLength - BLOCK)), 'and so is its last block')
})
