import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { getAs } from '../helpers/net.ts'
import { noteBootTime } from '../helpers/boot-times.ts'
import { checkCloned, room } from '../helpers/netboot-room.ts'
import { hostFromGuest, netbootDir } from '../helpers/qemu.ts'

t.setTimeout(1_200_000)

t.test('Secure Boot on, Microsoft keys enrolled as on a stock PC: OVMF PXE → Debian\'s signed shim → signed GRUB → signed kernel; the appliance clones', async t => {
  const r = await room(t)
  const srv = await r.serve(['--countdown', '0'])
  // A TFTP server as an admin would set it up: the netboot files, and the
  // grub.cfg that ezio serve writes for the address the machines reach it at.
  const tftpDir = path.join(r.dir, 'tftp')
  await fs.mkdir(path.join(tftpDir, 'grub'), { recursive: true })
  for (const f of ['shimx64.efi', 'grubx64.efi', 'vmlinuz', 'initrd.img']) await fs.symlink(path.join(netbootDir, f), path.join(tftpDir, f))
  const cfg = (await getAs(r.port, `${hostFromGuest}:${r.port}`, '/boot/grub.cfg')).toString()
  t.match(cfg, /^linux \(tftp\)\/vmlinuz initrd=initrd\.img ezio\.server=http:\/\/10\.0\.2\.100:\d+ BOOTIF=01-\$\{net_default_mac\} .*ezio\.countdown=0 console=ttyS0,115200n8 console=tty0$/m, 'GRUB boots boot.ipxe\'s kernel line')
  await fs.writeFile(path.join(tftpDir, 'grub/grub.cfg'), cfg)

  const mac = '52:54:00:e2:10:0f'
  const guest = await r.boot({ mac, uefiPxe: { tftpDir, bootfile: 'shimx64.efi', secureBoot: true } })
  await guest.waitFor(/ezio: booting the cloning appliance \(Secure Boot path/, 600_000)
  t.pass('shim verified and ran the signed GRUB, which read grub/grub.cfg')
  await guest.waitFor(/ezio: Secure Boot: (on|off)/, 600_000)
  t.match(guest.console(), /ezio: Secure Boot: on/, 'the signed kernel booted, and init says Secure Boot is on')
  const clientMs = await guest.waitFor(/ezio: starting the client/, 300_000)
  await noteBootTime('UEFI PXE, Secure Boot on (shim, GRUB, TFTP)', clientMs)
  t.match(guest.console(), /ezio: eth0 is the boot NIC \(BOOTIF=01-52:54:00:e2:10:0f\)/, 'GRUB named the boot NIC')
  t.match(guest.console(), /ezio: drivers: .*\bvirtio_net\b/, 'the initrd\'s modules loaded under lockdown')
  await checkCloned(t, r, guest, srv, mac)
})
