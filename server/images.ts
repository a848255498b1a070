import { placePartitions } from '../engine/disk/place-partitions.ts'
import { openImage, type OpenTarget } from '../engine/disk/target.ts'
import { EzioError } from '../engine/errors.ts'
import { parseTorrentFile, type TorrentMeta } from '../engine/torrent/load.ts'
import { imageTorrent, type TorrentKind } from './torrent-cache.ts'

export interface ImageSpec {
  name: string
  path: string
  /** Raw unless it says otherwise. */
  kind?: TorrentKind
}

export interface ServedImage {
  name: string
  path: string
  meta: TorrentMeta
  /** The torrent as made: its announce is set per request. */
  file: Uint8Array
  image: OpenTarget
  /** A compressed torrent's payload as made: what the seeder reads, rather than re-making pieces from the image. */
  payload?: OpenTarget
  /** The torrent was made elsewhere (--torrent): the seeder checks the image against it first. */
  given: boolean
}

/** What GET /api/images lists. */
export interface ImageInfo {
  name: string
  size: number
  infoHash: string
  default: boolean
}

export const imageNameRule = /^[A-Za-z0-9._-]+$/

/** The images one server deploys; the first is the default, for machines assigned none. */
export class Images {
  private constructor (readonly list: ServedImage[]) {}

  /** Each image's torrent (made once, cached under STATEDIR) and an open handle to seed it from. */
  static async open (specs: ImageSpec[], stateDir: string, log: (line: string) => void): Promise<Images> {
    const list: ServedImage[] = []
    try {
      for (const spec of specs) {
        const made = await imageTorrent(spec.path, spec.name, spec.kind ?? {}, stateDir, log)
        if (made.reused) log(`reusing the torrent of ${spec.path} (unchanged since it was hashed)`)
        const loaded = await parseTorrentFile(made.file, spec.kind?.torrent ?? `${stateDir}/${spec.name}.torrent`)
        const image = await openImage(spec.path)
        const served: ServedImage = { ...spec, meta: loaded, file: made.file, image, given: made.given }
        list.push(served)
        served.meta = await placePartitions(loaded, image.handle, image.info, spec.path, 'image')
        if (made.payload) served.payload = await openImage(made.payload)
        if (served.image.info.size < served.meta.layout.end) {
          throw new EzioError('badImage', `image ${spec.path} holds ${served.image.info.size} bytes but its torrent needs ${served.meta.layout.end}: serve the image the torrent was made from`)
        }
      }
    } catch (err) {
      await closeAll(list)
      throw err
    }
    if (list.length === 0) throw new EzioError('usage', 'ezio serve: give an IMAGE or --image NAME=PATH; see ezio serve --help')
    return new Images(list)
  }

  get default (): ServedImage {
    return this.list[0]!
  }

  byName (name: string): ServedImage | undefined {
    return this.list.find(i => i.name === name)
  }

  infoHashes (): Set<string> {
    return new Set(this.list.map(i => i.meta.infoHash))
  }

  info (): ImageInfo[] {
    return this.list.map(i => ({ name: i.name, size: i.meta.length, infoHash: i.meta.infoHash, default: i === this.default }))
  }

  async close (): Promise<void> {
    await closeAll(this.list)
  }
}

async function closeAll (list: ServedImage[]): Promise<void> {
  await Promise.all(list.flatMap(i => [i.image.handle.close(), i.payload?.handle.close()]))
}
