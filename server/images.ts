import { placePartitions } from '../engine/disk/place-partitions.ts'
import { openImage, type OpenTarget } from '../engine/disk/target.ts'
import { EzioError } from '../engine/errors.ts'
import { parseTorrentFile, type TorrentMeta } from '../engine/torrent/load.ts'
import type { ImageStore, StoredEntry } from './image-store.ts'
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
  /** The raw image (IMAGE, --image); a capture in the store has none: its payload is all there is. */
  image?: OpenTarget
  /** A compressed torrent's payload as made: what the seeder reads, rather than re-making pieces from the image. */
  payload?: OpenTarget
  /** The torrent was made elsewhere (--torrent): the seeder checks the image against it first. */
  given: boolean
  /** From the image store (a capture), not the command line. */
  stored: boolean
}

/** What GET /api/images lists. */
export interface ImageInfo {
  name: string
  size: number
  infoHash: string
  default: boolean
  stored: boolean
}

/**
 * The images one server deploys: the command line's, then the store's
 * captures. The first is the default, for machines assigned none; with none
 * at all (an empty store), machines wait for the first capture.
 */
export class Images {
  /** Replaced by a capture of the same name: no longer listed, still seeded to machines mid-clone of them. */
  private readonly retired: ServedImage[] = []

  private constructor (readonly list: ServedImage[]) {}

  /** Each image's torrent (made once, cached under STATEDIR) and an open handle to seed it from; then the store's. */
  static async open (specs: ImageSpec[], stateDir: string, log: (line: string) => void, store?: { store: ImageStore, entries: StoredEntry[] }): Promise<Images> {
    const list: ServedImage[] = []
    try {
      for (const spec of specs) list.push(await openSpec(spec, stateDir, log))
      for (const entry of store?.entries ?? []) {
        if (list.some(i => i.name === entry.name)) {
          throw new EzioError('usage', `ezio serve: the image store ${store!.store.dir} holds a capture named ${entry.name}, as is an image of the command line: image names are unique; name the command line's image otherwise (--image OTHER=PATH)`)
        }
        const served = await openStored(store!.store, entry.name, entry.torrent).catch((err: Error) => { log(`${store!.store.dir}/${entry.name}.torrent is not served: ${err.message}`) })
        if (served) list.push(served)
      }
    } catch (err) {
      await closeAll(list)
      throw err
    }
    if (store) await store.store.dropUnused(new Set(list.filter(i => i.stored).map(i => i.path)))
    return new Images(list)
  }

  get default (): ServedImage | undefined {
    return this.list[0]
  }

  byName (name: string): ServedImage | undefined {
    return this.list.find(i => i.name === name)
  }

  /** What the seeder serves and the tracker answers for: the listed images and the retired ones. */
  infoHashes (): Set<string> {
    return new Set([...this.list, ...this.retired].map(i => i.meta.infoHash))
  }

  info (): ImageInfo[] {
    return this.list.map(i => ({ name: i.name, size: i.meta.length, infoHash: i.meta.infoHash, default: i === this.default, stored: i.stored }))
  }

  /**
   * A capture just stored, seeded by SEED and listed under its name; an
   * image of that name (--replace) is retired: listed no more, seeded on
   * until the server stops.
   */
  async addStored (store: ImageStore, name: string, torrent: Uint8Array, seed: (added: ServedImage) => Promise<void>): Promise<{ added: ServedImage, replaced?: ServedImage }> {
    const added = await openStored(store, name, torrent)
    // Seeded before it is listed; the same content captured again is seeded already.
    if (!this.infoHashes().has(added.meta.infoHash)) {
      await seed(added).catch(async (err: unknown) => { await closeAll([added]); throw err })
    }
    const at = this.list.findIndex(i => i.name === name)
    if (at < 0) {
      this.list.push(added)
      return { added }
    }
    const [replaced] = this.list.splice(at, 1, added)
    this.retired.push(replaced!)
    return { added, replaced }
  }

  async close (): Promise<void> {
    await closeAll([...this.list, ...this.retired])
  }
}

async function openSpec (spec: ImageSpec, stateDir: string, log: (line: string) => void): Promise<ServedImage> {
  const made = await imageTorrent(spec.path, spec.name, spec.kind ?? {}, stateDir, log)
  if (made.reused) log(`reusing the torrent of ${spec.path} (unchanged since it was hashed)`)
  const loaded = await parseTorrentFile(made.file, spec.kind?.torrent ?? `${stateDir}/${spec.name}.torrent`)
  const image = await openImage(spec.path)
  const served: ServedImage = { ...spec, meta: loaded, file: made.file, image, given: made.given, stored: false }
  try {
    served.meta = await placePartitions(loaded, image.handle, image.info, spec.path, 'image')
    if (made.payload) served.payload = await openImage(made.payload)
    if (image.info.size < served.meta.layout.end) {
      throw new EzioError('badImage', `image ${spec.path} holds ${image.info.size} bytes but its torrent needs ${served.meta.layout.end}: serve the image the torrent was made from`)
    }
  } catch (err) {
    await closeAll([served])
    throw err
  }
  return served
}

// A capture's pieces were hashed as they arrived: its payload is seeded
// without a second pass, once it is the length its torrent says.
async function openStored (store: ImageStore, name: string, file: Uint8Array): Promise<ServedImage> {
  const meta = await parseTorrentFile(file, `${store.dir}/${name}.torrent`)
  if (!meta.compressed) throw new EzioError('badTorrent', `${name}.torrent in the image store is not a capture's (no compressed pieces): the store holds only what ezio capture sent`)
  const payloadPath = store.payloadOf(meta.infoHash)
  const payload = await openImage(payloadPath)
  if (payload.info.size !== meta.length) {
    await payload.handle.close()
    throw new EzioError('badImage', `its payload ${payloadPath} holds ${payload.info.size} bytes, not the torrent's ${meta.length}: capture ${name} again`)
  }
  return { name, path: payloadPath, meta, file, payload, given: false, stored: true }
}

async function closeAll (list: ServedImage[]): Promise<void> {
  await Promise.all(list.flatMap(i => [i.image?.handle.close(), i.payload?.handle.close()]))
}
