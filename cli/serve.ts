import os from 'node:os'
import path from 'node:path'
import { EzioError } from '../engine/errors.ts'
import { afterActions, type AfterAction } from '../protocol/config.ts'
import { startServer, type ServeOptions } from '../server/serve.ts'
import { choiceOption, numberOption, parse, positionals } from './args.ts'
import type { Command } from './command.ts'

const help = `Usage: ezio serve IMAGE [--name NAME] [--port 8080] [--bt-port 6881]
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

async function run (argv: string[]): Promise<number> {
  const opts = serveOptions(argv)
  const log = (line: string): void => { process.stderr.write(`ezio serve: ${line}\n`) }
  const server = await startServer(opts, log)
  process.stdout.write(`ezio serve: ${opts.name} (${(server.meta.length / 1e6).toFixed(0)} MB) — dashboard ${server.url}/?token=${server.operatorToken} — PXE kernel command line: ezio.server=${server.url}\n`)
  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  log('stopping')
  await server.stop()
  return 0
}

function serveOptions (argv: string[]): ServeOptions {
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
  const [image] = positionals('serve', pos, ['IMAGE'])
  const name = values.name ?? path.basename(image!).replace(/\.[^.]*$/, '')
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new EzioError('usage', `ezio serve: --name ${name} may hold only letters, digits, '.', '_' and '-'`)
  return {
    image: image!,
    name,
    port: numberOption('serve', 'port', values.port, 8080, { integer: true, min: 1 }),
    btPort: numberOption('serve', 'bt-port', values['bt-port'], 6881, { integer: true, min: 1 }),
    advertise: values.advertise,
    target: values.target ?? 'auto',
    after: choiceOption<AfterAction>('serve', 'after', values.after, afterActions, 'reboot'),
    seedRatio: numberOption('serve', 'seed-ratio', values['seed-ratio'], 3, { min: 0 }),
    seedIdle: numberOption('serve', 'seed-idle', values['seed-idle'], 90, { min: 0 }),
    allow: new Set((values.allow ?? []).flatMap(a => a.split(',')).map(m => m.trim().toLowerCase()).filter(Boolean)),
    netbootDir: path.resolve(values.netboot ?? 'dist/netboot'),
    stateDir: path.resolve(values.state ?? path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local/state'), 'ezio', name)),
    uploadLimit: values['upload-limit'] === undefined ? undefined : numberOption('serve', 'upload-limit', values['upload-limit'], 0, { min: 0.01 }) * 1e6,
    pxe: values.pxe,
    countdown: values.countdown === undefined ? undefined : numberOption('serve', 'countdown', values.countdown, 10, { integer: true, min: 0 })
  }
}

export const serve: Command = { name: 'serve', summary: 'run a deployment: tracker, seeder, config, netboot files, dashboard', help, run }
