import t from 'tap'
import { badPieceSize, choosePieceSize, MAX_PIECE, MAX_PIECES, tooManyPieces } from '../../../engine/torrent/piece-size.ts'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

t.test('about a thousand pieces, 256 KiB to 4 MiB', async t => {
  t.equal(choosePieceSize(64 * MiB), 256 * KiB, 'a small image: 256 pieces of 256 KiB, not 64 of 1 MiB')
  t.equal(choosePieceSize(512 * MiB), 512 * KiB)
  t.equal(choosePieceSize(2 * GiB), MiB, 'up to 2 GiB: at most 1 MiB')
  t.equal(choosePieceSize(8 * GiB), 2 * MiB)
  t.equal(choosePieceSize(2 * 1024 * GiB), 4 * MiB, 'a 2 TB disk: 4 MiB pieces, a .torrent of a few MB')
  for (const size of [1, 100 * MiB, 3 * GiB, 100 * GiB, 8 * 1024 * GiB]) {
    t.equal(badPieceSize(choosePieceSize(size)) ?? tooManyPieces(size, choosePieceSize(size)), undefined, `a size ezio loads for ${size} bytes`)
  }
  t.equal(choosePieceSize(8 * 1024 * GiB), 8 * MiB, 'an 8 TiB disk: 8 MiB pieces, a million of them at most')
})

t.test('the bounds a torrent is loaded within', async t => {
  for (const bad of [0, 1000, 8 * KiB, 3 * MiB, 32 * MiB, 2 ** 40, 1.5, NaN]) t.ok(badPieceSize(bad), `refused: ${bad}`)
  for (const good of [16 * KiB, 256 * KiB, MAX_PIECE]) t.equal(badPieceSize(good), undefined, `loaded: ${good}`)
  t.equal(tooManyPieces(MAX_PIECES * MiB, MiB), undefined)
  t.match(tooManyPieces(MAX_PIECES * MiB + 1, MiB), /1048577 pieces of 1048576 bytes are more than the 1048576/)
})
