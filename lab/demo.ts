// make demo: a lab in a box. A sample disk image, `ezio serve --pxe`, and
// QEMU guests that PXE-boot as lab PCs do (BIOS, UEFI, UEFI with Secure Boot
// on: EZIO_DEMO_FIRMWARE), clone the image from the server and from each
// other, and power off. With Secure Boot guests ezio serve is the network's
// DHCP server (--dhcp-range: Debian's signed GRUB cannot use a proxy DHCP
// offer); otherwise it runs proxy DHCP beside a plain DHCP server standing in
// for the lab's. Exits 0 only when every guest's disk matches.
import { execa, type ResultPromise } from 'execa'
import { createWriteStream, promises as fs } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { Machine } from '../server/machines.ts'
import { firmwares, kvmUsable, startGuest, type Firmware, type Guest } from './guest.ts'
import { Network } from './netns.ts'
import { ezioBin, get, root, sha256, until } from './room.ts'
import { makeSampleDisk } from './sample-disk.ts'

const { values } = parseArgs({
  options: {
    guests: { type: 'string', default: process.env.EZIO_DEMO_GUESTS ?? '4' },
    size: { type: 'string', default: process.env.EZIO_DEMO_SIZE_MIB ?? '256' },
    firmware: { type: 'string', default: process.env.EZIO_DEMO_FIRMWARE ?? 'mixed' },
    memory: { type: 'string', default: '768' },
    port: { type: 'string', default: '8080' },
    dir: { type: 'string', default: path.join(root, 'dist/demo') },
    timeout: { type: 'string', default: '1800' },
    netboot: { type: 'string', default: path.join(root, 'dist/netboot') }
  }
})
const guests = Number(values.guests)
const sizeMiB = Number(values.size)
const dir = path.resolve(values.dir)
const firmware = values.firmware
/** Guest I's firmware: mixed takes them in turn, UEFI first (most labs now). */
const firmwareOf = (i: number): Firmware => firmware === 'mixed' ? (['uefi', 'bios', 'secureboot'] as const)[(i - 1) % 3]! : firmware as Firmware
// The signed GRUB needs the DHCP answer itself to name its TFTP server.
const serverIsDhcp = Array.from({ length: guests }, (_, i) => firmwareOf(i + 1)).includes('secureboot')
const RANGE = '10.99.0.100-10.99.0.199'
const netboot = path.resolve(values.netboot)
const say = (line: string): void => { process.stdout.write(`demo: ${line}\n`) }

async function main (): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('demo: make demo needs root (network namespaces, tap devices, dnsmasq on port 67): run sudo make demo\n')
    return 2
  }
  if (firmware !== 'mixed' && !firmwares.includes(firmware as Firmware)) {
    process.stderr.write(`demo: EZIO_DEMO_FIRMWARE=${firmware}: give bios, uefi, secureboot or mixed\n`)
    return 2
  }
  for (const f of ['vmlinuz', 'initrd.img', 'undionly.kpxe', 'snponly.efi', 'shimx64.efi', 'grubx64.efi']) await fs.access(path.join(netboot, f)).catch(() => { throw new Error(`${netboot}/${f} is missing: run make netboot`) })
  await fs.mkdir(dir, { recursive: true })
  const image = path.join(dir, 'lab-disk.img')
  say(`making a sample lab disk: ${sizeMiB} MiB, GPT, one ext4 partition with files`)
  await makeSampleDisk(image, sizeMiB, dir)
  const kvm = await kvmUsable()
  if (!kvm) say('no KVM (EZIO_LAB_KVM=1 tries it): the guests run under software emulation, which is slower')

  const net = await Network.create()
  const procs: ResultPromise[] = []
  const cleanup = async (): Promise<void> => {
    for (const p of procs) p.kill('SIGKILL')
    await net.destroy()
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void cleanup().then(() => process.exit(130)) })
  try {
    if (!serverIsDhcp) await labDhcp(net, procs)
    const srv = await net.addHost('srv', 1)
    // A fresh server state each run: the guests' MACs repeat, and a machine
    // the last run imaged would now boot its own disk instead of cloning.
    const state = path.join(dir, 'serve-state')
    await fs.rm(state, { recursive: true, force: true })
    say('admission: --accept-all (every guest that PXE-boots on the demo\'s private network is imaged)')
    say(serverIsDhcp
      ? `DHCP: ezio serve is the network's DHCP server (--dhcp-range ${RANGE}), as on an imaging network of its own: the Secure Boot chain needs it`
      : 'DHCP: a plain DHCP server stands in for the lab\'s; ezio serve adds the boot information (proxy DHCP)')
    const serve = net.exec(srv, ezioBin, ['serve', image, '--name', 'lab-disk', '--pxe', 'eth0', ...(serverIsDhcp ? ['--dhcp-range', RANGE] : []),
      '--netboot', netboot, '--accept-all', '--state', state, '--countdown', '0', '--seed-idle', '20'], { all: true, buffer: true })
    procs.push(serve)
    logTo(serve, path.join(dir, 'serve.log'))
    let out = ''
    serve.stdout?.on('data', (c: Buffer) => { out += c.toString() })
    await until(async () => /dashboard/.test(out), 600, 'ezio serve to start')
    const token = /\?token=([0-9a-f]+)/.exec(out)?.[1] ?? ''
    // The operator's view from this machine: loopback PORT -> the server in its namespace.
    const port = await freeOr(Number(values.port))
    procs.push(execa('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `EXEC:ip netns exec ${srv.ns} socat STDIO TCP\\:${srv.ip}\\:8080`], { reject: false }))
    say(`dashboard: http://127.0.0.1:${port}/?token=${token}`)
    say(`booting ${guests} PXE guests (${kvm ? 'KVM' : 'software emulation'}; firmware ${firmware}), each with a blank ${sizeMiB} MiB disk`)

    const started: Guest[] = []
    for (let i = 1; i <= guests; i++) {
      const disk = path.join(dir, `guest-${i}.disk`)
      await fs.rm(disk, { force: true })
      await execa('truncate', ['-s', `${sizeMiB}M`, disk])
      const g = await startGuest(net, i, { disk, log: path.join(dir, `guest-${i}.log`), memoryMiB: Number(values.memory), kvm, timeoutSeconds: Number(values.timeout), firmware: firmwareOf(i) })
      procs.push(g.qemu)
      started.push(g)
    }
    const ends = await Promise.all(started.map(async g => { const r = await g.qemu; return { g, r, seconds: (Date.now() - g.started) / 1000 } }))
    const machines = JSON.parse(await get(net, srv, `http://${srv.ip}:8080/api/machines`) ?? '[]') as Machine[]
    const want = await sha256(image)
    let allGood = true
    const rows = [['machine', 'firmware', 'MAC', 'time', 'from seeder', 'from peers', 'verified']]
    for (const { g, r, seconds } of ends) {
      const m = machines.find(x => x.id.toLowerCase() === g.mac)
      const secure = g.firmware !== 'secureboot' || /ezio: Secure Boot: on/.test(await fs.readFile(g.log, 'utf8'))
      const verified = r.exitCode === 0 && m?.state === 'done' && secure && await sha256(g.disk) === want
      if (!verified) allGood = false
      const why = secure ? `${m?.state ?? 'never reported'}${m?.error ? `: ${m.error}` : ''}` : 'its console never said "ezio: Secure Boot: on"'
      rows.push([g.name, g.firmware, g.mac, `${seconds.toFixed(0)} s`, mb(m?.fromSeeder), mb(m?.fromPeers), verified ? 'yes' : `NO (${why}; see ${g.log})`])
    }
    process.stdout.write('\n' + table(rows) + '\n')
    say(allGood ? `every guest's disk matches the image (${guests} machines)` : `some guests did not clone the image: see their console logs and ${dir}/serve.log${serverIsDhcp ? '' : ` and ${dir}/lab-dhcp.log`}`)
    return allGood ? 0 : 1
  } finally {
    await cleanup()
  }
}

/** The lab's own DHCP server: addresses only, no boot information. */
async function labDhcp (net: Network, procs: ResultPromise[]): Promise<void> {
  const lab = await net.addHost('dhcp', 254)
  await net.exec(lab, 'ip', ['addr', 'add', 'fd99::fe/64', 'dev', 'eth0', 'nodad'])
  const proc = net.exec(lab, 'dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--pid-file=', '--log-facility=-', '--port=0',
    '--interface=eth0', '--bind-interfaces', '--dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h', '--dhcp-authoritative',
    `--dhcp-leasefile=${dir}/leases`, '--enable-ra', '--dhcp-range=fd99::,ra-only,64'], { all: true, buffer: true })
  procs.push(proc)
  logTo(proc, path.join(dir, 'lab-dhcp.log'))
}

/** PORT when it is free on loopback, else any free port: the demo must not fail on a busy 8080. */
function freeOr (port: number): Promise<number> {
  const tryListen = (p: number): Promise<number> => new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(p, '127.0.0.1', () => {
      const got = (srv.address() as AddressInfo).port
      srv.close(() => resolve(got))
    })
  })
  return tryListen(port).catch(() => tryListen(0))
}

/** Keeps what a background process says, for the operator to read after a failure. */
function logTo (proc: ResultPromise, file: string): void {
  const out = createWriteStream(file)
  proc.stdout?.on('data', (c: Buffer) => out.write(c))
  proc.stderr?.on('data', (c: Buffer) => out.write(c))
}

function mb (bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1e6).toFixed(1)} MB`
}

function table (rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => (r[i] ?? '').length)))
  return rows.map(r => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}

main().then(code => process.exit(code), (err: unknown) => {
  process.stderr.write(`demo: ${(err as Error).message}\n`)
  process.exit(1)
})
