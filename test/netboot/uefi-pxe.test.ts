import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { noteBootTime } from '../helpers/boot-times.ts'
import { netbootDir } from '../helpers/qemu.ts'
import { checkCloned, room } from '../helpers/netboot-room.ts'

t.setTimeout(900_000)

t.test('UEFI PXE: OVMF loads snponly.efi over TFTP, iPXE fetches boot.ipxe, kernel and initrd over HTTP from ezio serve', async t => {
  const r = await room(t)
  const srv = await r.serve(['--countdown', '0'])
  const tftpDir = path.join(r.dir, 'tftp')
  await fs.mkdir(tftpDir)
  await fs.copyFile(path.join(netbootDir, 'snponly.efi'), path.join(tftpDir, 'snponly.efi'))
  const mac = '52:54:00:e2:10:07'
  const guest = await r.boot({ mac, uefiPxe: { tftpDir, bootfile: 'snponly.efi' } })
  await guest.waitFor(/Press Ctrl-B for the iPXE command line/, 300_000)
  t.match(guest.console(), /NBP filename is snponly\.efi[\s\S]*NBP file downloaded successfully/, 'the firmware\'s own PXE loaded snponly.efi over TFTP')
  // QEMU's DHCP gives iPXE the same file as the firmware (it cannot match
  // iPXE's option 175 as a lab's DHCP server does, see ezio serve --pxe):
  // the test says at iPXE's prompt what that server would.
  const ctrlB = setInterval(() => guest.type('\x02'), 250)
  try {
    await guest.waitFor(/iPXE>/, 30_000)
  } finally {
    clearInterval(ctrlB)
  }
  guest.type(`dhcp && chain ${r.server()}/boot/boot.ipxe\r`)
  await guest.waitFor(/ezio: booting the cloning appliance/, 120_000)
  t.pass('iPXE runs boot.ipxe from ezio serve')
  await guest.waitFor(/ezio: loading the drivers/, 300_000)
  // iPXE draws its progress (87%) with backspaces before the final "ok".
  t.match(guest.console(), /boot\/vmlinuz\.\.\.[^\n]* ok\r?\n[\s\S]*boot\/initrd\.img\.\.\.[^\n]* ok\r?\n/, 'iPXE fetched the kernel and the initrd over HTTP')
  const clientMs = await guest.waitFor(/ezio: starting the client/, 400_000)
  await noteBootTime('UEFI PXE (snponly.efi, iPXE, HTTP)', clientMs)
  t.match(guest.console(), /ezio: eth0 is the boot NIC \(BOOTIF=01-52-54-00-e2-10-07\)/, 'init took the boot NIC from BOOTIF=, which boot.ipxe passed')
  t.match(guest.console(), /ezio: eth0 \(52:54:00:e2:10:07\): 10\.0\.2\.\d+/, 'it got the lease')
  await checkCloned(t, r, guest, srv, mac)
})
