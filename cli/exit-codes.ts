import type { ErrorKind } from '../engine/errors.ts'

/** One exit code for each kind of failure, so that a script can tell them apart. */
export const exitCodes: Record<ErrorKind | 'ok', number> = {
  ok: 0,
  internal: 1,
  usage: 2,
  badTorrent: 3,
  targetMissing: 4,
  targetMounted: 5,
  targetTooSmall: 6,
  writeFailed: 7,
  network: 8,
  verifyFailed: 9,
  aborted: 10,
  noTarget: 11,
  badImage: 12,
  refused: 13,
  alreadyImaged: 14,
  badConfig: 15,
  tableMismatch: 16,
  untrusted: 17,
  staleImage: 18,
  sourceInUse: 19
}

/** The table printed by `--help`, kept here so that it cannot drift from the codes. */
export const exitCodeHelp = `Exit codes:
  0 done            1 internal error    2 usage error
  3 bad torrent     4 target missing or not writable
  5 target mounted  6 target too small  7 write failed (EIO, ENOSPC, ...)
  8 network         9 verify found bad pieces   10 aborted by the operator
 11 no target disk found (auto)   12 image unreadable   13 refused by the server
 14 the server says this machine's disk already holds its image
 15 the server's config is not one this client can follow
 16 the target's partition table does not hold the torrent's partitions
 17 the config or torrent is not signed by the server this machine booted from
 18 the server's image changed since its torrent was made
 19 the disk to capture is mounted, or a filesystem on it is not clean`
