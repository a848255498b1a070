import { promises as fs } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { EzioError, errnoOf } from '../engine/errors.ts'
import { SeedClient } from '../engine/swarm/seed.ts'
import type { AfterAction } from '../protocol/config.ts'
import { macBytes } from '../protocol/machine-id.ts'
import { primaryAddress } from './addresses.ts'
import type { App } from './app.ts'
import type { Admission } from './boot-decision.ts'
import { History } from './history.ts'
import { handler } from './http.ts'
import { Images, type ImageSpec } from './images.ts'
import { ImageStore } from './image-store.ts'
import { Captures } from './captures.ts'
import { Machines } from './machines.ts'
import { roomView } from './operator-routes.ts'
import { RoomEvents } from './room-events.ts'
import { roomTotals } from './room-totals.ts'
import { Throughput } from './throughput.ts'
import { grubConfig, writeTftpRoot } from './grub.ts'
import { interfaceAddress, startPxeDhcp, type DhcpRange } from './pxe.ts'
import { pinnedKeyArchive } from './served-initrd.ts'
import { loadSigningKey, type SigningKey } from './signing-key.ts'
import { loadTokens, type Tokens } from './tokens.ts'
import { roomTracker, type RoomTracker } from './tracker.ts'
import { wake, type WakeSent } from './wake.ts'

export interface ServeOptions {
  /** The first is the default image. */
  images: ImageSpec[]
  /** The image store, where captures land (--images). */
  storeDir: string
  /** Machine id → image name, set at start. */
  assign: Map<string, string>
  admission: Admission
  port: number
  btPort: number
  advertise?: string
  target: string
  after: AfterAction
  seedRatio: number
  seedIdle: number
  netbootDir: string
  stateDir: string
  /** Bytes per second. */
  uploadLimit?: number
  /** Run dnsmasq for PXE on this interface: proxy DHCP, or with dhcpRange the network's DHCP server. */
  pxe?: string
  dhcpRange?: DhcpRange
  countdown?: number
  /** Wake every known machine once started. */
  wakeAll: boolean
}

export interface RunningServer {
  /** Where machines and the operator reach it: http://ADDR:PORT. */
  url: string
  operatorToken: string
  /** The signing key's fingerprint, which every machine booted from this server pins. */
  keyFingerprint: string
  images: Images
  stop: () => Promise<void>
}

/**
 * Everything a lab deployment needs, in one process: each image's torrent,
 * one seeder for them all, the tracker, the HTTP routes (boot scripts,
 * config, torrents, netboot files, dashboard, operator actions) and, if
 * asked, dnsmasq for PXE (proxy DHCP, or the network's DHCP server).
 */
export async function startServer (opts: ServeOptions, log: (line: string) => void): Promise<RunningServer> {
  await fs.mkdir(opts.stateDir, { recursive: true })
  const store = new ImageStore(opts.storeDir)
  const stored = await store.open()
  for (const i of stored.interrupted) log(`the capture of ${i.name} was cut off when ezio serve last stopped: nothing of it was kept`)
  const images = await Images.open(opts.images, opts.stateDir, log, { store, entries: stored.entries })
  const tokens = await loadTokens(opts.stateDir)
  const signingKey = await loadSigningKey(opts.stateDir)
  const machines = new Machines(opts.stateDir)
  await machines.load()
  await assignAtStart(machines, images, opts.assign)
  // Where machines on the --pxe interface reach this server: its TFTP and, unless --advertise, its URL.
  const pxeAddress = opts.pxe ? interfaceAddress(opts.pxe).address : undefined
  const seeder = await seedAll(images, opts)
  const tracker = roomTracker(() => images.infoHashes())
  const app = appOf(opts, { images, store, tracker, machines, tokens, signingKey, seeder, pxeAddress }, log)
  app.captures.interrupted(stored.interrupted)
  machines.on('change', () => {
    app.events.touch()
    app.throughput.sample(() => roomTotals(machines.list()))
  })
  const server = http.createServer(handler(app))
  // A capture is one request as long as the disk takes to read: only idleness (capture-receiver.ts) ends it.
  server.requestTimeout = 0
  await listen(server, opts.port).catch(async err => { await seeder.stop(); throw err })
  await warnMissingNetboot(opts.netbootDir, log)
  const url = `http://${opts.advertise ?? `${pxeAddress ?? primaryAddress()}:${opts.port}`}`
  const tftpRoot = opts.pxe ? await writeTftpRoot(opts.netbootDir, grubConfig(url, app.bootArgs), app.keyArchive) : undefined
  const dhcp = opts.dhcpRange && { range: opts.dhcpRange, leaseFile: path.join(opts.stateDir, 'dhcp.leases') }
  const pxe = opts.pxe && tftpRoot ? startPxeDhcp(opts.pxe, opts.port, tftpRoot, log, dhcp) : undefined
  if (opts.wakeAll) await wakeKnown(app, log)
  return {
    url,
    operatorToken: tokens.operator,
    keyFingerprint: signingKey.fingerprint,
    images,
    stop: async () => {
      server.closeAllConnections()
      server.close()
      app.events.stop()
      await Promise.all([tracker.close(), seeder.stop(), machines.flush(), app.history.flush(), pxe?.stop()])
      await images.close()
      if (tftpRoot) await fs.rm(tftpRoot, { recursive: true, force: true })
    }
  }
}

// The images were just hashed, or are unchanged since: no second hash pass,
// but for a torrent made elsewhere (--torrent), checked against its image once.
// The server's link is the room's bottleneck: each piece should cross it once (super-seed.js in patches/).
async function seedAll (images: Images, opts: ServeOptions): Promise<SeedClient> {
  const seeder = await SeedClient.start({ port: opts.btPort, uploadLimit: opts.uploadLimit, superSeed: true })
  try {
    for (const i of images.list) await seeder.add(i.meta, (i.payload ?? i.image!).handle, { skipVerify: !i.given, payload: !!i.payload })
  } catch (err) {
    await seeder.stop()
    throw err
  }
  return seeder
}

interface AppParts {
  images: Images
  store: ImageStore
  tracker: RoomTracker
  machines: Machines
  tokens: Tokens
  signingKey: SigningKey
  seeder: SeedClient
  pxeAddress?: string
}

/** The running parts, as the HTTP routes see them. */
function appOf (opts: ServeOptions, { images, store, tracker, machines, tokens, signingKey, seeder, pxeAddress }: AppParts, log: (line: string) => void): App {
  const app: App = {
    deployment: { target: opts.target, after: opts.after, seedRatio: opts.seedRatio, seedIdle: opts.seedIdle, btPort: opts.btPort, reportSecret: tokens.machine },
    images,
    store,
    captures: new Captures(ended => {
      if (ended) machines.captureEnded(ended)
      app.events.touch()
    }),
    addImage: async (name, torrent) => {
      await addCaptured(images, store, seeder, name, torrent, log)
      app.events.touch()
    },
    tracker,
    machines,
    history: new History(opts.stateDir, machines, hash => images.list.find(i => i.meta.infoHash === hash)?.name ?? ''),
    events: new RoomEvents(whole => roomView(app, whole)),
    throughput: new Throughput(),
    port: opts.port,
    advertise: opts.advertise,
    netbootDir: opts.netbootDir,
    operatorToken: tokens.operator,
    signingKey,
    keyArchive: pinnedKeyArchive(signingKey.pinned),
    admission: opts.admission,
    paused: false,
    bootArgs: opts.countdown === undefined ? '' : `ezio.countdown=${opts.countdown}`,
    undiTftp: pxeAddress,
    seederStats: () => seeder.stats(),
    wake: id => wakeMachine(machines, id)
  }
  return app
}

// Checked here, not with argv: a name may be the image store's.
async function assignAtStart (machines: Machines, images: Images, assign: Map<string, string>): Promise<void> {
  for (const [id, image] of assign) {
    if (!images.byName(image)) {
      await images.close()
      throw new EzioError('usage', `ezio serve: --assign ${id}=${image}: no image ${image}; images: ${images.list.map(i => i.name).join(', ') || 'none yet'}`)
    }
    machines.assign(id, image)
  }
}

async function addCaptured (images: Images, store: ImageStore, seeder: SeedClient, name: string, torrent: Uint8Array, log: (line: string) => void): Promise<void> {
  const { added, replaced } = await images.addStored(store, name, torrent, async i => { await seeder.add(i.meta, i.payload!.handle, { skipVerify: true, payload: true }) })
  const old = !replaced ? '' : replaced.meta.infoHash === added.meta.infoHash ? ': the same as the one it replaces' : `: machines cloning the old ${replaced.meta.infoHash} finish it`
  log(`${replaced ? 'replaced' : 'stored'} image ${name} (${(added.meta.length / 1e6).toFixed(0)} MB, ${added.meta.infoHash})${old}`)
}

async function wakeMachine (machines: Machines, id: string): Promise<WakeSent> {
  const mac = macBytes(id)
  // Machines named otherwise (namespace machines, scripts) have nothing to wake.
  if (!mac) return { id, sentTo: [] }
  machines.log('wake', id)
  return wake(id, mac, machines.get(id)?.ip)
}

async function wakeKnown (app: App, log: (line: string) => void): Promise<void> {
  for (const m of app.machines.list()) {
    const sent = await app.wake(m.id).catch((err: unknown) => { log(`waking ${m.id} failed: ${(err as Error).message}`); return undefined })
    if (sent?.sentTo.length) log(`woke ${m.id}: magic packet to ${sent.sentTo.join(', ')}`)
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
