const MiB = 1024 * 1024

// 1-4 MiB pieces: small enough that a seeder's read cache and a downloader's
// in-flight pieces stay within the memory target, large enough that the
// .torrent of a 2 TB disk stays a few MB.
export function choosePieceSize (imageBytes: number): number {
  if (imageBytes <= 2 * 1024 * MiB) return MiB
  if (imageBytes <= 16 * 1024 * MiB) return 2 * MiB
  return 4 * MiB
}

export function checkPieceSize (bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 16 * 1024 || (bytes & (bytes - 1)) !== 0) {
    throw new Error(`piece size ${bytes} is not a power of two of at least 16384 bytes`)
  }
  return bytes
}
