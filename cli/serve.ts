import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { EzioError } from '../engine/errors.ts'
import { afterActions, type AfterAction } from '../protocol/config.ts'
import { machineIdOf, machineIdRule } from '../protocol/machine-id.ts'
import type { Admission } from '../server/boot-decision.ts'
import { imageNameRule } from '../protocol/capture.ts'
import type { ImageSpec } from '../server/images.ts'
import type { TorrentKind } from '../server/torrent-cache.ts'
import { dhcpRangeOf, type DhcpRange } from '../server/pxe.ts'
import { startServer, type ServeOptions } from '../server/serve.ts'
import { choiceOption, numberOption, parse, positionals } from './args.ts'
import type { Command } from './command.ts'

const help = `Usage: ezio serve [IMAGE] [--image NAME=PATH]... [--name NAME] [--port 8080]
         [--bt-port 6881] [--advertise ADDR] [--target auto|DEVICE]
         [--after reboot|poweroff|shell] [--seed-ratio R] [--seed-idle S]
         [--allow MAC,...|FILE] [--accept-all] [--assign MAC=NAME]... [--wake]
         [--netboot DIR] [--state DIR] [--images DIR] [--upload-limit MB/s] [--pxe IFACE]
         [--dhcp-range FIRST-LAST] [--countdown S]
         [--used-blocks] [--compress] [--torrent FILE]

Everything a lab deployment needs, in one process: makes the private torrent
of each image (once; reused while the image is unchanged; a block device at
every start, since its content changes without its mtime), runs the tracker,
seeds the images, serves each machine its boot script and config, the
torrents and the netboot files, and a live dashboard at http://ADDR:PORT/.

The server decides each boot: a machine whose disk holds its image,
complete, boots that disk (iPXE exits to the next boot device; /ezio.json
answers 409 and the appliance powers off); a machine to be imaged gets the
appliance. Re-image, wake, accept and assign from the dashboard or the API.

Every config is signed with the server's key (STATE/signing-key.pem, made
at the first start). The initrd it serves carries the public key, and a
machine booted from it refuses any other server's config and torrent.

IMAGE     the image to deploy (named by --name, default its file name);
          optional: without IMAGE or --image, the server deploys the
          captures in its store, and machines wait until the first arrives
--image   NAME=PATH, another image to deploy; the first image is the default
--used-blocks  send only the blocks filesystems use, as ezio create
          --used-blocks does (every image; needs root and partclone)
--compress  send zstd-compressed pieces, as ezio create --compress does
          (every image); the compressed payload is kept under --state
--torrent FILE  serve IMAGE with a torrent made beforehand (by ezio create,
          Clonezilla or ezio upstream), checked against IMAGE at start
--assign  MAC=NAME: the image that machine gets (default: the first)
--allow   only these MAC addresses (a list, or a file of them) may be
          imaged; others are refused
--accept-all  every machine that asks may be imaged. With neither --allow
          nor --accept-all, a machine waits until the operator accepts it
--wake    send Wake-on-LAN to every known machine at start
--target  the disk machines write to: auto (default: the one internal disk at
          least as big as the image) or a device path
--after   what machines do when done: reboot (default), poweroff, shell
--netboot where vmlinuz and initrd.img are (default dist/netboot)
--state   where torrents, tokens, the signing key, machines and actions are
          kept across restarts
--images  the image store (default STATE/images): what ezio capture sends
          lands there, ready to deploy (each image its torrent, NAME.torrent,
          and its compressed pieces, seeded as they are; docs/capture.md).
          Its images are listed after the command line's; names are unique
--upload-limit  cap the seeder's upload (MB/s), e.g. to spare the server's
          uplink; the machines then serve each other the rest
--pxe     run dnsmasq as a proxy DHCP server on IFACE: the lab's DHCP server
          keeps handing out addresses, dnsmasq adds the boot information
          (iPXE over TFTP, then boot.ipxe over HTTP from this server).
          UEFI PCs get snponly.efi, so Secure Boot must be off
--dhcp-range  with --pxe: be the network's DHCP server, handing out
          FIRST-LAST (e.g. 10.99.0.100-10.99.0.199), for an imaging network
          of its own: never beside another DHCP server. UEFI PCs then get
          Debian's signed shim and GRUB, and boot with Secure Boot on or off
--countdown  seconds each machine shows which disk it will erase before it
          starts (any key aborts); default 10, 0 for unattended rooms`

async function run (argv: string[]): Promise<number> {
  const opts = await serveOptions(argv)
  const log = (line: string): void => { process.stderr.write(`ezio serve: ${line}\n`) }
  const server = await startServer(opts, log)
  const first = server.images.default
  const more = server.images.list.length > 1 ? ` + ${server.images.list.length - 1} more image${server.images.list.length > 2 ? 's' : ''}` : ''
  const what = first ? `${first.name} (${(first.meta.length / 1e6).toFixed(0)} MB)${more}` : `no image yet (capture one into ${opts.storeDir})`
  process.stdout.write(`ezio serve: ${what} — dashboard ${server.url}/?token=${server.operatorToken} — ` +
    `PXE kernel command line: ezio.server=${server.url} — admission: ${admissionLine(opts.admission)} — configs signed with key ${server.keyFingerprint}\n`)
  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  log('stopping')
  await server.stop()
  return 0
}

function admissionLine (a: Admission): string {
  if (a.acceptAll) return 'every machine that asks is imaged (--accept-all)'
  if (a.allow.size > 0) return `only the ${a.allow.size} machines of --allow (and those the operator accepts)`
  return 'each new machine waits until the operator accepts it on the dashboard'
}

const options = {
  image: { type: 'string', multiple: true },
  name: { type: 'string' },
  port: { type: 'string' },
  'bt-port': { type: 'string' },
  advertise: { type: 'string' },
  target: { type: 'string' },
  after: { type: 'string' },
  'seed-ratio': { type: 'string' },
  'seed-idle': { type: 'string' },
  allow: { type: 'string', multiple: true },
  'accept-all': { type: 'boolean' },
  assign: { type: 'string', multiple: true },
  wake: { type: 'boolean' },
  netboot: { type: 'string' },
  state: { type: 'string' },
  images: { type: 'string' },
  'upload-limit': { type: 'string' },
  pxe: { type: 'string' },
  'dhcp-range': { type: 'string' },
  countdown: { type: 'string' },
  'used-blocks': { type: 'boolean' },
  compress: { type: 'boolean' },
  torrent: { type: 'string' }
} as const

async function serveOptions (argv: string[]): Promise<ServeOptions> {
  const { values, positionals: pos } = parse('serve', argv, options)
  const images = imagesOf(pos, values.name, values.image ?? [], torrentKind(values, pos.length > 0))
  const stateDir = path.resolve(values.state ?? path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local/state'), 'ezio', images[0]?.name ?? 'serve'))
  return {
    images,
    assign: assignmentsOf(values.assign ?? []),
    admission: { allow: await allowListOf(values.allow ?? []), acceptAll: !!values['accept-all'] },
    wakeAll: !!values.wake,
    port: numberOption('serve', 'port', values.port, 8080, { integer: true, min: 1 }),
    btPort: numberOption('serve', 'bt-port', values['bt-port'], 6881, { integer: true, min: 1 }),
    advertise: values.advertise,
    target: values.target ?? 'auto',
    after: choiceOption<AfterAction>('serve', 'after', values.after, afterActions, 'reboot'),
    seedRatio: numberOption('serve', 'seed-ratio', values['seed-ratio'], 3, { min: 0 }),
    seedIdle: numberOption('serve', 'seed-idle', values['seed-idle'], 90, { min: 0 }),
    netbootDir: path.resolve(values.netboot ?? 'dist/netboot'),
    stateDir,
    storeDir: path.resolve(values.images ?? path.join(stateDir, 'images')),
    uploadLimit: values['upload-limit'] === undefined ? undefined : numberOption('serve', 'upload-limit', values['upload-limit'], 0, { min: 0.01 }) * 1e6,
    pxe: values.pxe,
    dhcpRange: dhcpRangeOption(values['dhcp-range'], values.pxe),
    countdown: values.countdown === undefined ? undefined : numberOption('serve', 'countdown', values.countdown, 10, { integer: true, min: 0 })
  }
}

function dhcpRangeOption (spec: string | undefined, pxe: string | undefined): DhcpRange | undefined {
  if (spec === undefined) return undefined
  if (pxe === undefined) throw new EzioError('usage', 'ezio serve: --dhcp-range needs --pxe IFACE, the interface of the imaging network')
  return dhcpRangeOf(spec, pxe)
}

function torrentKind (values: { 'used-blocks'?: boolean, compress?: boolean, torrent?: string }, positional: boolean): TorrentKind {
  if (values.torrent === undefined) return { usedBlocks: !!values['used-blocks'], compress: !!values.compress }
  if (values['used-blocks'] || values.compress) throw new EzioError('usage', 'ezio serve: --torrent serves a torrent as it was made: --used-blocks and --compress do not go with it')
  if (!positional) throw new EzioError('usage', 'ezio serve: --torrent FILE is the torrent of IMAGE, the positional image: give IMAGE')
  return { torrent: values.torrent }
}

/** The positional IMAGE (named by --name) first, then each --image NAME=PATH; KIND for every one but --torrent, which is IMAGE's only. */
function imagesOf (pos: string[], name: string | undefined, more: string[], kind: TorrentKind): ImageSpec[] {
  if (pos.length > 1) positionals('serve', pos, ['IMAGE'])
  const own = kind.torrent ? { usedBlocks: false, compress: false } : kind
  const images: ImageSpec[] = pos.map(p => ({ name: name ?? path.basename(p).replace(/\.[^.]*$/, ''), path: p, kind }))
  for (const spec of more) {
    const eq = spec.indexOf('=')
    if (eq <= 0 || eq === spec.length - 1) throw new EzioError('usage', `ezio serve: --image ${spec} is not NAME=PATH`)
    images.push({ name: spec.slice(0, eq), path: spec.slice(eq + 1), kind: own })
  }
  for (const [i, image] of images.entries()) {
    if (!imageNameRule.test(image.name)) throw new EzioError('usage', `ezio serve: image name ${image.name} may hold only letters, digits, '.', '_' and '-'`)
    if (images.findIndex(x => x.name === image.name) !== i) throw new EzioError('usage', `ezio serve: two images are named ${image.name}: image names are unique`)
  }
  return images
}

function assignmentsOf (specs: string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const spec of specs) {
    const eq = spec.lastIndexOf('=')
    const id = machineIdOf(spec.slice(0, Math.max(eq, 0)))
    const image = spec.slice(eq + 1)
    if (eq <= 0 || !id) throw new EzioError('usage', `ezio serve: --assign ${spec} is not MAC=NAME (${machineIdRule})`)
    out.set(id, image)
  }
  return out
}

/** --allow takes MACs, comma-separated, or a file of them (one or more a line, # comments). */
async function allowListOf (values: string[]): Promise<Set<string>> {
  const words: string[] = []
  for (const v of values) {
    const text = await fs.readFile(v, 'utf8').catch(() => undefined)
    words.push(...(text === undefined ? v : text.replace(/#.*$/gm, '')).split(/[\s,]+/).filter(Boolean))
  }
  return new Set(words.map(w => {
    const id = machineIdOf(w)
    if (!id) throw new EzioError('usage', `ezio serve: --allow ${w} is not a MAC address or machine name (${machineIdRule})`)
    return id
  }))
}

export const serve: Command = { name: 'serve', summary: 'run a deployment: tracker, seeder, config, netboot files, dashboard', help, run }
