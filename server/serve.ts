import { promises as fs } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { choiceOption, numberOption, parse, positionals } from '../client/commands/args.ts'
import { afterActions, type AfterAction } from '../client/config.ts'
import { openImage } from '../client/disk/target.ts'
import { EzioError, errnoOf } from '../client/errors.ts'
import { parseTorrentFile } from '../client/torrent/load.ts'
import { seedImage } from '../client/swarm/seed.ts'
import { primaryAddress } from './addresses.ts'
import { handler, type App } from './http.ts'
import { Machines } from './machines.ts'
import { startProxyDhcp } from './pxe.ts'
import { loadTokens } from './tokens.ts'
import { imageTorrent } from './torrent-cache.ts'
import { roomTracker } from './tracker.ts'

export const serveHelp = `Usage: ezio serve IMAGE [--name NAME] [--port 8080] [--bt-port 6881]
         [--advertise ADDR] [--target auto|DEVICE] [--after reboot|poweroff|shell]
         [--seed-ratio R] [--seed-idle S] [--allow MAC,...] [--netboot DIR] [--state DIR]
         [--upload-limit MB/s] [--pxe IFACE] [--countdown S]

Everything a lab deployment needs, in one process: makes the private torrent
of IMAGE (once; reused while the image is unchanged), runs the tracker, seeds
the image, serves the config, the torrent and the netboot files to the lab
machines, and a live dashboard at http://ADDR:PORT/.

--target  the disk machines write to: auto (default: the one internal disk at
          least as big as the image) or a device path
--after   what machines do when done: reboot (default), poweroff, shell
--allow   only these MAC addresses get a config; others are refused
--netboot where vmlinuz and initrd.img are (default dist/netboot)
--state   where the torrent, tokens and machine list are kept across restarts
--upload-limit  cap the seeder's upload (MB/s), e.g. to spare the server's
          uplink; the machines then serve each other the rest
--pxe     run dnsmasq as a proxy DHCP server on IFACE: the lab's DHCP server
          keeps handing out addresses, dnsmasq adds the boot information
          (iPXE over TFTP, then boot.ipxe over HTTP from this server)
--countdown  seconds each machine shows which disk it will erase before it
          starts (any key aborts); default 10, 0 for unattended rooms`

export async function serveCommand (argv: string[]): Promise<number> {
  const { values, positionals: pos } = parse('serve', argv, {
    name: { type: 'string' },
    port: { type: 'string' },
    'bt-port': { type: 'string' },
    advertise: { type: 'string' },
    target: { type: 'string' },
    after: { type: 'string' },
    'seed-ratio': { type: 'string' },
    'seed-idle': { type: 'string' },
    allow: { type: 'string', multiple: true },
    netboot: { type: 'string' },
    state: { type: 'string' },
    'upload-limit': { type: 'string' },
    pxe: { type: 'string' },
    countdown: { type: 'string' }
  })
  if (values.help) { process.stdout.write(serveHelp + '\n'); return 0 }
  const [image] = positionals('serve', pos, ['IMAGE'])
  const name = values.name ?? path.basename(image!).replace(/\.[^.]*$/, '')
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new EzioError('usage', `ezio serve: --name ${name} may hold only letters, digits, '.', '_' and '-'`)
  const port = numberOption('serve', 'port', values.port, 8080, { integer: true, min: 1 })
  const btPort = numberOption('serve', 'bt-port', values['bt-port'], 6881, { integer: true, min: 1 })
  const stateDir = path.resolve(values.state ?? path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local/state'), 'ezio', name))
  const netbootDir = path.resolve(values.netboot ?? 'dist/netboot')
  const log = (line: string): void => { process.stderr.write(`ezio serve: ${line}\n`) }
  await fs.mkdir(stateDir, { recursive: true })

  const { file, reused } = await imageTorrent(image!, name, stateDir, log)
  const meta = await parseTorrentFile(file, `${stateDir}/${name}.torrent`)
  if (reused) log(`reusing the torrent of ${image} (unchanged since it was hashed)`)
  const tokens = await loadTokens(stateDir)
  const machines = new Machines(stateDir)
  await machines.load()
  const imageHandle = await openImage(image!)
  // The image was just hashed, or is unchanged since: no second hash pass.
  const uploadLimit = values['upload-limit'] === undefined ? undefined : numberOption('serve', 'upload-limit', values['upload-limit'], 0, { min: 0.01 }) * 1e6
  // The server's link is the room's bottleneck: each piece should cross it once (super-seed.js in patches/).
  const seeder = await seedImage({ meta, image: imageHandle.handle, port: btPort, skipVerify: true, uploadLimit, superSeed: true })
  const tracker = roomTracker(meta.infoHash)

  const app: App = {
    deployment: {
      name,
      target: values.target ?? 'auto',
      after: choiceOption<AfterAction>('serve', 'after', values.after, afterActions, 'reboot'),
      seedRatio: numberOption('serve', 'seed-ratio', values['seed-ratio'], 3, { min: 0 }),
      seedIdle: numberOption('serve', 'seed-idle', values['seed-idle'], 90, { min: 0 }),
      btPort,
      machineToken: tokens.machine
    },
    torrent: file,
    tracker,
    machines,
    port,
    advertise: values.advertise,
    netbootDir,
    operatorToken: tokens.operator,
    allow: new Set((values.allow ?? []).flatMap(a => a.split(',')).map(m => m.trim().toLowerCase()).filter(Boolean)),
    paused: false,
    bootArgs: values.countdown === undefined ? '' : `ezio.countdown=${numberOption('serve', 'countdown', values.countdown, 10, { integer: true, min: 0 })}`,
    seederStats: () => ({ uploaded: seeder.traffic.uploaded, upRate: seeder.torrent.uploadSpeed, peers: seeder.torrent.numPeers })
  }
  const server = http.createServer(handler(app))
  await new Promise<void>((resolve, reject) => {
    server.once('error', err => reject(errnoOf(err) === 'EADDRINUSE'
      ? new EzioError('network', `port ${port} is in use: stop what listens there or pick another with --port`)
      : new EzioError('network', `cannot listen on port ${port}: ${err.message}`)))
    server.listen(port, () => resolve())
  }).catch(async err => { await seeder.stop(); throw err })

  for (const f of ['vmlinuz', 'initrd.img']) {
    await fs.access(path.join(netbootDir, f)).catch(() => log(`${netbootDir}/${f} is missing: /boot/${f} will answer 404 until you run make netboot (or pass --netboot DIR)`))
  }
  const pxe = values.pxe ? startProxyDhcp(values.pxe, port, netbootDir, log) : undefined
  const base = `http://${values.advertise ?? `${pxe?.address ?? primaryAddress()}:${port}`}`
  process.stdout.write(`ezio serve: ${name} (${(meta.length / 1e6).toFixed(0)} MB) — dashboard ${base}/?token=${tokens.operator} — PXE kernel command line: ezio.server=${base}\n`)

  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  log('stopping')
  server.closeAllConnections()
  server.close()
  await Promise.all([tracker.close(), seeder.stop(), machines.flush(), pxe?.stop()])
  await imageHandle.handle.close()
  return 0
}
