import t, { type Test } from 'tap'
import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { root } from '../helpers/paths.ts'

const demoDir = path.join(root, 'dist/demo')

/** make demo as the README's first command runs it, scaled down for CI: one guest of FIRMWARE, a 64 MiB disk. */
async function demo (t: Test, firmware: string): Promise<{ serveLog: string, guestLog: string }> {
  const r = await execa('make', ['--no-print-directory', 'demo'], {
    cwd: root,
    reject: false,
    all: true,
    timeout: 900_000,
    env: { EZIO_DEMO_GUESTS: '1', EZIO_DEMO_SIZE_MIB: '64', EZIO_DEMO_FIRMWARE: firmware }
  })
  const out = String(r.all)
  t.comment(out.split('\n').filter(l => /^(demo:|machine|pc-)/.test(l)).join('\n'))
  t.equal(r.exitCode, 0, 'make demo exits 0')
  t.match(out, /demo: dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/, 'prints the dashboard URL')
  const rows = out.split('\n').filter(l => /^pc-\d\d /.test(l))
  t.equal(rows.length, 1, 'a table row for the guest')
  t.match(rows[0], new RegExp(`^pc-01 +${firmware} .*\\byes$`), 'the guest\'s disk matches the image')
  return {
    serveLog: await fs.readFile(path.join(demoDir, 'serve.log'), 'utf8'),
    guestLog: await fs.readFile(path.join(demoDir, 'guest-1.log'), 'utf8')
  }
}

// A stock PC with Secure Boot on: OVMF's Secure Boot build with Microsoft's
// keys, on a network whose DHCP server is ezio serve (--dhcp-range).
t.test('make demo, EZIO_DEMO_FIRMWARE=secureboot: shim, GRUB and the signed kernel, from ezio serve\'s own DHCP', { timeout: 1_000_000 }, async t => {
  const { serveLog, guestLog } = await demo(t, 'secureboot')
  t.match(serveLog, /DHCP server on eth0 \(10\.99\.0\.100-10\.99\.0\.199\)/, 'ezio serve is the network\'s DHCP server')
  t.match(serveLog, /bootfile-name +shimx64\.efi/, 'the PC\'s firmware was offered the signed shim')
  t.match(serveLog, /dnsmasq-tftp.*sent \S+\/grubx64\.efi to 10\.99\.0\.1\d\d/, 'shim loaded GRUB over TFTP')
  t.match(guestLog, /ezio: Secure Boot: on/, 'the guest\'s console says Secure Boot is on')
})

// A BIOS PC beside the lab's own DHCP server: its PXE ROM (QEMU's is iPXE)
// runs undionly.kpxe from TFTP, which then fetches boot.ipxe over HTTP.
t.test('make demo, EZIO_DEMO_FIRMWARE=bios: PXE ROM → undionly.kpxe over TFTP → boot.ipxe, through proxy DHCP', { timeout: 1_000_000 }, async t => {
  const { serveLog } = await demo(t, 'bios')
  t.match(serveLog, /proxy DHCP on eth0/, 'ezio serve answers beside the lab\'s DHCP server')
  t.match(serveLog, /dnsmasq-tftp.*sent \S+\/undionly\.kpxe to 10\.99\.0\.1\d\d/, 'the BIOS guest ran undionly.kpxe from TFTP')
})
