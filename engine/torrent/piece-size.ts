const KiB = 1024
const MiB = 1024 * KiB

/**
 * What a torrent may ask of a machine, checked at load before anything is
 * allocated: a piece is held whole in memory (the resume scan's buffer, the
 * write gate), and the appliance has 384 MiB. 16 MiB is Clonezilla's own
 * piece size; a million pieces is 16 TiB at 16 MiB, 20 MB of hashes.
 */
export const MIN_PIECE = 16 * KiB
export const MAX_PIECE = 16 * MiB
export const MAX_PIECES = 1 << 20
/** The .torrent itself: the hashes and, compressed, 32 bytes a piece of mapping, with room to spare. */
export const MAX_TORRENT_BYTES = 64 * MiB

/**
 * About a thousand pieces, between 256 KiB and 1-4 MiB. A machine passes a
 * piece on only once it has the whole of it, so the room's first second
 * waits for N machines to get a piece each from the server: with 1 MiB
 * pieces that was an eighth of a 64 MiB image's time to 8 machines (the
 * room's links idle meanwhile). 1-4 MiB above a GiB: a seeder's read cache
 * and a downloader's in-flight pieces stay within the memory target, and the
 * .torrent of a 2 TB disk stays a few MB.
 */
export function choosePieceSize (imageBytes: number): number {
  const most = imageBytes <= 2 * 1024 * MiB ? MiB : imageBytes <= 16 * 1024 * MiB ? 2 * MiB : 4 * MiB
  let size = 256 * KiB
  while (size < most && size * 1024 * 2 <= imageBytes) size *= 2
  // Past 4 TiB, bigger pieces keep the count within what a machine loads.
  while (size < MAX_PIECE && Math.ceil(imageBytes / size) > MAX_PIECES) size *= 2
  return size
}

/** Why BYTES is no piece length ezio loads, or undefined when it is one. */
export function badPieceSize (bytes: number): string | undefined {
  if (!Number.isInteger(bytes) || bytes < MIN_PIECE || bytes > MAX_PIECE || (bytes & (bytes - 1)) !== 0) {
    return `piece length ${bytes} is not a power of two from ${MIN_PIECE} to ${MAX_PIECE} bytes`
  }
  return undefined
}

/** Why BYTES of pieces of PIECE bytes are more pieces than ezio loads, or undefined. */
export function tooManyPieces (bytes: number, piece: number): string | undefined {
  const count = Math.ceil(bytes / piece)
  return count > MAX_PIECES ? `${count} pieces of ${piece} bytes are more than the ${MAX_PIECES} a machine loads` : undefined
}
