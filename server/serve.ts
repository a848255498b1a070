import { promises as fs } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { openImage } from '../engine/disk/target.ts'
import { EzioError, errnoOf } from '../engine/errors.ts'
import { seedImage, type Seeder } from '../engine/swarm/seed.ts'
import { parseTorrentFile, type TorrentMeta } from '../engine/torrent/load.ts'
import type { AfterAction } from '../protocol/config.ts'
import { primaryAddress } from './addresses.ts'
import { handler, type App } from './http.ts'
import { Machines } from './machines.ts'
import { startProxyDhcp } from './pxe.ts'
import { loadTokens } from './tokens.ts'
import { imageTorrent } from './torrent-cache.ts'
import { roomTracker } from './tracker.ts'

export interface ServeOptions {
  image: string
  name: string
  port: number
  btPort: number
  advertise?: string
  target: string
  after: AfterAction
  seedRatio: number
  seedIdle: number
  /** MACs allowed to get a config; empty allows every machine. */
  allow: Set<string>
  netbootDir: string
  stateDir: string
  /** Bytes per second. */
  uploadLimit?: number
  /** Run proxy DHCP on this interface. */
  pxe?: string
  countdown?: number
}

export interface RunningServer {
  /** Where machines and the operator reach it: http://ADDR:PORT. */
  url: string
  operatorToken: string
  meta: TorrentMeta
  stop: () => Promise<void>
}

/**
 * Everything a lab deployment needs, in one process: the image's torrent,
 * the seeder, the tracker, the HTTP routes (config, torrent, netboot files,
 * dashboard) and, if asked, proxy DHCP.
 */
export async function startServer (opts: ServeOptions, log: (line: string) => void): Promise<RunningServer> {
  await fs.mkdir(opts.stateDir, { recursive: true })
  const { file, reused } = await imageTorrent(opts.image, opts.name, opts.stateDir, log)
  const meta = await parseTorrentFile(file, `${opts.stateDir}/${opts.name}.torrent`)
  if (reused) log(`reusing the torrent of ${opts.image} (unchanged since it was hashed)`)
  const tokens = await loadTokens(opts.stateDir)
  const machines = new Machines(opts.stateDir)
  await machines.load()
  const image = await openImage(opts.image)
  // The image was just hashed, or is unchanged since: no second hash pass.
  // The server's link is the room's bottleneck: each piece should cross it once (super-seed.js in patches/).
  const seeder = await seedImage({ meta, image: image.handle, port: opts.btPort, skipVerify: true, uploadLimit: opts.uploadLimit, superSeed: true })
  const tracker = roomTracker(meta.infoHash)
  const app = appOf(opts, { torrent: file, tracker, machines, seeder, machineToken: tokens.machine, operatorToken: tokens.operator })
  const server = http.createServer(handler(app))
  await listen(server, opts.port).catch(async err => { await seeder.stop(); throw err })
  await warnMissingNetboot(opts.netbootDir, log)
  const pxe = opts.pxe ? startProxyDhcp(opts.pxe, opts.port, opts.netbootDir, log) : undefined
  return {
    url: `http://${opts.advertise ?? `${pxe?.address ?? primaryAddress()}:${opts.port}`}`,
    operatorToken: tokens.operator,
    meta,
    stop: async () => {
      server.closeAllConnections()
      server.close()
      await Promise.all([tracker.close(), seeder.stop(), machines.flush(), pxe?.stop()])
      await image.handle.close()
    }
  }
}

type Parts = Pick<App, 'torrent' | 'tracker' | 'machines' | 'operatorToken'> & { seeder: Seeder, machineToken: string }

function appOf (opts: ServeOptions, parts: Parts): App {
  const { seeder } = parts
  return {
    deployment: {
      name: opts.name,
      target: opts.target,
      after: opts.after,
      seedRatio: opts.seedRatio,
      seedIdle: opts.seedIdle,
      btPort: opts.btPort,
      machineToken: parts.machineToken
    },
    torrent: parts.torrent,
    tracker: parts.tracker,
    machines: parts.machines,
    port: opts.port,
    advertise: opts.advertise,
    netbootDir: opts.netbootDir,
    operatorToken: parts.operatorToken,
    allow: opts.allow,
    paused: false,
    bootArgs: opts.countdown === undefined ? '' : `ezio.countdown=${opts.countdown}`,
    seederStats: () => ({ uploaded: seeder.traffic.uploaded, upRate: seeder.torrent.uploadSpeed, peers: seeder.torrent.numPeers })
  }
}

function listen (server: http.Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', err => reject(errnoOf(err) === 'EADDRINUSE'
      ? new EzioError('network', `port ${port} is in use: stop what listens there or pick another with --port`)
      : new EzioError('network', `cannot listen on port ${port}: ${err.message}`)))
    server.listen(port, () => resolve())
  })
}

async function warnMissingNetboot (dir: string, log: (line: string) => void): Promise<void> {
  for (const f of ['vmlinuz', 'initrd.img']) {
    await fs.access(path.join(dir, f)).catch(() => log(`${dir}/${f} is missing: /boot/${f} will answer 404 until you run make netboot (or pass --netboot DIR)`))
  }
}
