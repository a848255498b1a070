import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Network } from '../../lab/netns.ts'
import { until } from '../../lab/room.ts'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { bundle, node, root } from '../helpers/paths.ts'
import { netbootDir, netbootFiles } from '../helpers/qemu.ts'

t.setTimeout(900_000)

const SIZE = 32 * 1024 * 1024
// Each closes a quote, substitutes a command or ends one, as a hostile or
// careless DHCP server's values would: run as shell, each leaves a file.
const EVIL_BOOT_FILE = `x'"; touch /tmp/pwned-quote; "'$(touch /tmp/pwned-subst)\`touch /tmp/pwned-tick\`;touch /tmp/pwned-semi`
const EVIL_DOMAIN = `lab$(touch /tmp/pwned-domain)';touch /tmp/pwned-domain2;'`

t.test('DHCP values are data: a boot-file name and a domain that would run commands if evaluated change nothing; the guest clones', async t => {
  await netbootFiles()
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), SIZE)
  const disk = await blankFile(path.join(dir, 'guest.disk'), SIZE)
  const net = await Network.create()
  t.teardown(() => net.destroy())
  const srv = await net.addHost('srv', 1)
  const dnsmasq = net.exec(srv, 'dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--pid-file=', '--log-facility=-', '--port=0',
    `--interface=${srv.dev}`, '--bind-interfaces', '--dhcp-range=10.99.0.100,10.99.0.150,255.255.255.0,1h', `--dhcp-leasefile=${dir}/leases`,
    `--dhcp-boot=${EVIL_BOOT_FILE}`, `--dhcp-option-force=15,${EVIL_DOMAIN}`, '--log-dhcp'], { all: true })
  t.teardown(() => { dnsmasq.kill('SIGKILL') })
  const serve = net.exec(srv, node, [bundle, 'serve', image, '--accept-all', '--port', '8080', '--bt-port', '6881', '--state', path.join(dir, 'state'),
    '--seed-ratio', '0', '--after', 'shell', '--netboot', netbootDir], { all: true })
  t.teardown(() => { serve.kill('SIGKILL') })

  const tap = await net.addTap('tapdhcp')
  const mac = '52:54:00:e2:10:0e'
  const guest = net.execSwitch('timeout', ['600', 'qemu-system-x86_64', '-nodefaults', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot', '-m', '768',
    '-kernel', path.join(netbootDir, 'vmlinuz'), '-initrd', path.join(netbootDir, 'initrd.img'),
    '-append', `console=ttyS0 loglevel=3 ezio.server=http://${srv.ip}:8080 ezio.countdown=0`,
    '-drive', `file=${disk},format=raw,if=none,id=d0`, '-device', 'virtio-blk-pci,drive=d0',
    '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${mac},romfile=`
  ], { stdin: 'pipe', all: true, buffer: false })
  t.teardown(() => { guest.kill('SIGKILL') })
  let out = ''
  guest.all?.on('data', (c: Buffer) => { out += c.toString('latin1') })
  const seen = (pattern: RegExp, seconds: number): Promise<void> => until(async () => pattern.test(out), seconds, `${pattern} on the guest's console; it shows:\n${out.slice(-2000)}`)

  await seen(/ezio: done: the config asks for a shell/, 500)
  t.match(out, /ezio: eth0 \(52:54:00:e2:10:0e\): 10\.99\.0\.1\d\d\/24; server http:\/\/10\.99\.0\.1:8080/, 'the guest got its lease from the namespace\'s DHCP server')
  const leases = await execa('cat', [path.join(dir, 'leases')])
  t.match(String(leases.stdout), /52:54:00:e2:10:0e/, 'dnsmasq handed it the lease with those values')
  guest.stdin?.write('ls /tmp/pwned* 2>/dev/null | wc -l | sed "s/^/pwned-files-/"; cat /etc/resolv.conf | head -n 1\n')
  await seen(/pwned-files-\d+/, 60)
  t.match(out, /pwned-files-0/, 'no command of the DHCP values ran: no /tmp/pwned* file in the guest')
  // busybox's udhcpc itself puts "bad" for a domain that is not a host name.
  t.match(out, /search (lab\$\(touch \/tmp\/pwned-domain\)|bad)\r?\n/, 'the domain went into resolv.conf as text, never run')
  guest.kill('SIGTERM')
  await guest
  t.equal(await sha256(disk), await sha256(image), 'and the guest cloned the image')
  dnsmasq.kill('SIGTERM')
  const log = String((await dnsmasq).all)
  await fs.mkdir(path.join(root, 'test/artifacts'), { recursive: true })
  await fs.writeFile(path.join(root, 'test/artifacts/dhcp-values-dnsmasq.log'), log)
  await fs.writeFile(path.join(root, 'test/artifacts/dhcp-values-guest.log'), out)
  t.ok(log.includes(`bootfile name: ${EVIL_BOOT_FILE}`), 'dnsmasq did hand out the hostile boot-file name')
})
