import t from 'tap'
import { checkPieceSize, choosePieceSize } from '../../../engine/torrent/piece-size.ts'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

t.test('about a thousand pieces, 256 KiB to 4 MiB', async t => {
  t.equal(choosePieceSize(64 * MiB), 256 * KiB, 'a small image: 256 pieces of 256 KiB, not 64 of 1 MiB')
  t.equal(choosePieceSize(512 * MiB), 512 * KiB)
  t.equal(choosePieceSize(2 * GiB), MiB, 'up to 2 GiB: at most 1 MiB')
  t.equal(choosePieceSize(8 * GiB), 2 * MiB)
  t.equal(choosePieceSize(2 * 1024 * GiB), 4 * MiB, 'a 2 TB disk: 4 MiB pieces, a .torrent of a few MB')
  for (const size of [1, 100 * MiB, 3 * GiB, 100 * GiB]) t.equal(checkPieceSize(choosePieceSize(size)), choosePieceSize(size), `a valid size for ${size} bytes`)
})
