import { promises as fs } from 'node:fs'
import { placePartitions } from '../engine/disk/place-partitions.ts'
import { checkTarget, openImage, type OpenTarget } from '../engine/disk/target.ts'
import { EzioError, asEzioError } from '../engine/errors.ts'
import { SeedClient } from '../engine/swarm/seed.ts'
import type { SeedPolicy } from '../engine/swarm/seeding.ts'
import type { TorrentMeta } from '../engine/torrent/load.ts'
import { runClone } from './clone.ts'
import { loadTorrentFrom } from './fetch.ts'
import type { ProgressMode } from './progress/render.ts'

/** One -T TORRENT -L TARGET of ezio upstream's command line, as Clonezilla builds it: a partition each. */
export interface PartitionPair {
  torrent: string
  target: string
}

/**
 * Clones every pair at once, each its own swarm (its peers come from its
 * torrent's tracker, Clonezilla's opentracker), then seeds each by POLICY.
 * Every torrent and target is checked before any is written, so that a
 * too-small sda2 refuses the machine before sda1 is touched. Resolves only
 * when every target holds its torrent, verified; else throws the first
 * failure, naming its partition.
 */
export async function clonePartitions (pairs: PartitionPair[], seed: SeedPolicy, progress: ProgressMode): Promise<void> {
  const jobs: { meta: TorrentMeta, target: string }[] = []
  for (const pair of pairs) {
    const meta = await loadTorrentFrom(pair.torrent).catch(named(pair.torrent, pair.target))
    await checkTarget(pair.target, meta.layout.end).catch(named(meta.name, pair.target))
    jobs.push({ meta, target: pair.target })
  }
  const ends = await Promise.allSettled(jobs.map(({ meta, target }) =>
    runClone({ torrent: meta, target, peers: [], seed, progress, label: meta.name, id: meta.name }).catch(named(meta.name, target))))
  const failed = ends.find(e => e.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
}

/** Seeds every pair from one client: each TARGET a device or image file, or with SLICES a directory of the torrent's files. */
export async function seedPartitions (pairs: PartitionPair[], slices: boolean): Promise<{ seeder: SeedClient, images: OpenTarget[] }> {
  const seeder = await SeedClient.start({})
  const images: OpenTarget[] = []
  try {
    for (const pair of pairs) {
      const meta = await loadTorrentFrom(pair.torrent).catch(named(pair.torrent, pair.target))
      const add = async (): Promise<void> => {
        if (slices) {
          if (!(await fs.stat(pair.target).catch(() => undefined))?.isDirectory()) {
            throw new EzioError('badImage', `with -f, ${pair.target} must be the directory that holds ${meta.name}/ and its slice files`)
          }
          await seeder.add(meta, { dir: pair.target })
          return
        }
        const image = await openImage(pair.target)
        images.push(image)
        await seeder.add(await placePartitions(meta, image.handle, image.info, pair.target, 'image'), image.handle)
      }
      await add().catch(named(meta.name, pair.target))
    }
  } catch (err) {
    await seeder.stop()
    for (const i of images) await i.handle.close()
    throw err
  }
  return { seeder, images }
}

/** The failure, its message starting with the partition it is about. */
function named (name: string, target: string): (err: unknown) => never {
  return err => {
    const e = asEzioError(err)
    throw new EzioError(e.kind, `${name} (${target}): ${e.message}`, { cause: err })
  }
}
