import { promises as fs } from 'node:fs'
import path from 'node:path'
import { makeImageTorrent } from '../engine/torrent/image-torrent.ts'
import { describeDevice } from '../engine/disk/device.ts'
import { EzioError } from '../engine/errors.ts'

interface Fingerprint { image: string, size: number, mtimeMs: number, ino: number }

/**
 * The torrent of IMAGE, made once: a restart with the same, unchanged image
 * reuses it instead of hashing the image again.
 */
export async function imageTorrent (image: string, name: string, stateDir: string, log: (line: string) => void): Promise<{ file: Uint8Array, reused: boolean }> {
  const info = await describeDevice(image).catch((err: unknown) => { throw new EzioError('badImage', `image ${image}: ${(err as Error).message}`) })
  if (!info) throw new EzioError('badImage', `image ${image} does not exist: give the path of a raw disk image or a block device`)
  const st = await fs.stat(image)
  const fingerprint: Fingerprint = { image: path.resolve(image), size: info.size, mtimeMs: st.mtimeMs, ino: st.ino }
  const torrentFile = path.join(stateDir, `${name}.torrent`)
  const fingerprintFile = path.join(stateDir, `${name}.image.json`)
  try {
    const saved = JSON.parse(await fs.readFile(fingerprintFile, 'utf8')) as Fingerprint
    if (JSON.stringify(saved) === JSON.stringify(fingerprint)) return { file: await fs.readFile(torrentFile), reused: true }
  } catch {}
  log(`hashing ${image} (${(info.size / 1e6).toFixed(0)} MB) once; later starts reuse the torrent`)
  const file = await makeImageTorrent(image, { trackers: [], name, progress: true })
  await fs.writeFile(torrentFile, file)
  await fs.writeFile(fingerprintFile, JSON.stringify(fingerprint) + '\n')
  return { file, reused: false }
}
