import { placePartitions } from '../engine/disk/place-partitions.ts'
import { openImage, type OpenTarget } from '../engine/disk/target.ts'
import { rate, mb } from '../engine/format.ts'
import { loadTorrentFrom } from '../client/fetch.ts'
import { SeedClient } from '../engine/swarm/seed.ts'
import { EzioError } from '../engine/errors.ts'
import { numberOption, parse, peerOption, positionals } from './args.ts'
import type { Command } from './command.ts'

const help = `Usage: ezio seed TORRENT IMAGE [--bt-port N] [--skip-verify] [--super-seed] [--peer HOST:PORT]...
         [--payload FILE]

Seeds IMAGE (the file or block device TORRENT was made from) over TCP until
interrupted. IMAGE is hashed once at start; --skip-verify trusts it.
--super-seed shows each peer a few pieces at a time, pieces no peer has yet,
so that each piece leaves this seeder about once and the peers fetch the rest
from each other (ezio serve always seeds so). A compressed torrent's pieces are re-made from
IMAGE as peers ask for them; --payload FILE (what ezio create --payload
wrote) serves them as made instead, and IMAGE is only checked for its size.`

async function run (argv: string[]): Promise<number> {
  const { values, positionals: pos } = parse('seed', argv, {
    'bt-port': { type: 'string' },
    'skip-verify': { type: 'boolean' },
    'super-seed': { type: 'boolean' },
    peer: { type: 'string', multiple: true },
    payload: { type: 'string' }
  })
  const [torrentPath, imagePath] = positionals('seed', pos, ['TORRENT', 'IMAGE'])
  const loaded = await loadTorrentFrom(torrentPath!)
  const image = await openImage(imagePath!)
  const meta = await placePartitions(loaded, image.handle, image.info, imagePath!, 'image')
  if (image.info.size < meta.layout.end) {
    throw new EzioError('badImage', `image ${imagePath} holds ${image.info.size} bytes but the torrent needs ${meta.layout.end}: seed the image the torrent was made from`)
  }
  if (values.payload !== undefined && !meta.compressed) throw new EzioError('usage', 'ezio seed: --payload is for compressed torrents (ezio create --compress)')
  const payload = values.payload === undefined ? undefined : await openImage(values.payload)
  const peers = peerOption('seed', values.peer)
  const seeder = await SeedClient.start({
    port: numberOption('seed', 'bt-port', values['bt-port'], 0, { integer: true, min: 0 }),
    superSeed: values['super-seed']
  })
  await seeder.add(meta, payload?.handle ?? image.handle, { skipVerify: values['skip-verify'], peers, payload: !!payload })
    .catch(async (err: unknown) => { await seeder.stop(); throw err })
  process.stderr.write(`seeding ${meta.name} (${meta.infoHash}) on port ${seeder.port}\n`)
  await seedUntilStopped(seeder, [image, ...payload ? [payload] : []])
  return 0
}

/** Seeds, a line every 10 s, until SIGINT or SIGTERM; then stops and closes IMAGES. */
export async function seedUntilStopped (seeder: SeedClient, images: OpenTarget[]): Promise<void> {
  const ticker = setInterval(() => {
    const s = seeder.stats()
    process.stderr.write(`seeding: up ${rate(s.upRate)}, ${mb(s.uploaded)} MB uploaded, ${s.peers} peers\n`)
  }, 10_000)
  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  clearInterval(ticker)
  await seeder.stop()
  for (const i of images) await i.handle.close()
}

export const seed: Command = { name: 'seed', summary: 'seed an image to the room', help, run }
