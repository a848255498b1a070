const KiB = 1024
const MiB = 1024 * KiB

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
  return size
}

export function checkPieceSize (bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 16 * 1024 || (bytes & (bytes - 1)) !== 0) {
    throw new Error(`piece size ${bytes} is not a power of two of at least 16384 bytes`)
  }
  return bytes
}
