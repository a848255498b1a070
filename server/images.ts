import { openImage, type OpenTarget } from '../engine/disk/target.ts'
import { EzioError } from '../engine/errors.ts'
import { parseTorrentFile, type TorrentMeta } from '../engine/torrent/load.ts'
import { imageTorrent } from './torrent-cache.ts'

export interface ImageSpec {
  name: string
  path: string
}

export interface ServedImage {
  name: string
  path: string
  meta: TorrentMeta
  /** The torrent as made: its announce is set per request. */
  file: Uint8Array
  image: OpenTarget
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
        const { file, reused } = await imageTorrent(spec.path, spec.name, stateDir, log)
        if (reused) log(`reusing the torrent of ${spec.path} (unchanged since it was hashed)`)
        const meta = await parseTorrentFile(file, `${stateDir}/${spec.name}.torrent`)
        list.push({ ...spec, meta, file, image: await openImage(spec.path) })
      }
    } catch (err) {
      await Promise.all(list.map(i => i.image.handle.close()))
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
    await Promise.all(this.list.map(i => i.image.handle.close()))
  }
}
