import { promises as fs } from 'node:fs'
import path from 'node:path'
import { makeImageTorrent } from '../engine/torrent/image-torrent.ts'
import { makeUsedBlocksTorrent } from '../engine/torrent/used-blocks-torrent.ts'
import { readTorrentFile } from '../engine/torrent/load.ts'
import { describeDevice } from '../engine/disk/device.ts'
import { EzioError } from '../engine/errors.ts'

/** Which torrent ezio serve makes of an image; TORRENT: one made beforehand, served as it is. */
export interface TorrentKind {
  usedBlocks?: boolean
  compress?: boolean
  torrent?: string
}

export interface CachedTorrent {
  file: Uint8Array
  reused: boolean
  /** The compressed pieces as made, under the state directory: the seeder serves them as they are. */
  payload?: string
  /** Made elsewhere: the image must be checked against it before it is seeded. */
  given: boolean
}

interface Fingerprint { image: string, size: number, mtimeMs: number, ino: number, kind: TorrentKind }

/**
 * The torrent of IMAGE as KIND says, made once and kept under STATEDIR
 * (with its payload, for a compressed one): a restart with the same,
 * unchanged image and the same kind reuses it instead of reading the image
 * again. A block device is hashed at every start: its content changes
 * without its mtime (a disk written through another node, a LVM snapshot
 * taken again), and a stale torrent would have the seeder serve pieces that
 * fail at every machine. Unchanged content makes the same torrent, so
 * machines mid-clone go on.
 */
export async function imageTorrent (image: string, name: string, kind: TorrentKind, stateDir: string, log: (line: string) => void): Promise<CachedTorrent> {
  const info = await describeDevice(image).catch((err: unknown) => { throw new EzioError('badImage', `image ${image}: ${(err as Error).message}`) })
  if (!info) throw new EzioError('badImage', `image ${image} does not exist: give the path of a raw disk image or a block device`)
  const torrentFile = path.join(stateDir, `${name}.torrent`)
  if (kind.torrent) {
    const file = await readTorrentFile(kind.torrent)
    await fs.writeFile(torrentFile, file)
    return { file, reused: false, given: true }
  }
  const st = await fs.stat(image)
  const fingerprint: Fingerprint = { image: path.resolve(image), size: info.size, mtimeMs: st.mtimeMs, ino: st.ino, kind }
  const fingerprintFile = path.join(stateDir, `${name}.image.json`)
  const payload = kind.compress ? path.join(stateDir, `${name}.payload`) : undefined
  try {
    const saved = JSON.parse(await fs.readFile(fingerprintFile, 'utf8')) as Fingerprint
    if (info.kind === 'file' && JSON.stringify(saved) === JSON.stringify(fingerprint)) return { file: await fs.readFile(torrentFile), reused: true, payload, given: false }
  } catch {}
  const what = [kind.usedBlocks ? 'used blocks' : '', kind.compress ? 'compressed' : ''].filter(Boolean).join(', ')
  const when = info.kind === 'block' ? 'at every start: a block device\'s content can change without its mtime' : 'once; later starts reuse the torrent'
  log(`hashing ${image} (${(info.size / 1e6).toFixed(0)} MB${what ? `, ${what}` : ''}) ${when}`)
  await fs.rm(fingerprintFile, { force: true })
  const out = payload ? await fs.open(payload, 'w') : undefined
  let file: Uint8Array
  try {
    const opts = { trackers: [], name, progress: true, compress: out ? { payload: out } : undefined }
    file = kind.usedBlocks ? (await makeUsedBlocksTorrent(image, opts)).file : await makeImageTorrent(image, opts)
  } finally {
    await out?.close()
  }
  await fs.writeFile(torrentFile, file)
  await fs.writeFile(fingerprintFile, JSON.stringify(fingerprint) + '\n')
  return { file, reused: false, payload, given: false }
}
