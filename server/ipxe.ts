/** Serial first, the screen last: the same on every boot path (build/netboot/pxe.sh too). */
export const KERNEL_CONSOLES = 'console=ttyS0,115200n8 console=tty0'

/**
 * boot.ipxe for a machine to be imaged: iPXE fetches kernel and initrd over
 * HTTP from this server (faster than TFTP) and tells the appliance which NIC
 * it booted from. The kernel line ends in console=tty0: the last console=
 * is /dev/console, so the screen and keyboard in front of the admin are the
 * console (the erase warning, the key that aborts it, the failure shell);
 * init copies its lines to the serial port too.
 */
export function applianceScript (hostPort: string, extraArgs = ''): string {
  const base = `http://${hostPort}`
  return `#!ipxe
echo ezio: booting the cloning appliance from ${base}
kernel ${base}/boot/vmlinuz ${applianceArgs(base, '${netX/mac:hexhyp}', extraArgs)}
initrd ${base}/boot/initrd.img
boot || shell
`
}

/**
 * The appliance's kernel line, the same on every boot path that ezio serve
 * writes (boot.ipxe, GRUB's config): the server, the boot NIC (BOOTIF, as
 * the boot loader names its MAC), EXTRA (ezio.countdown=…), the consoles last.
 */
export function applianceArgs (base: string, bootifMac: string, extra: string): string {
  return `initrd=initrd.img ezio.server=${base} BOOTIF=01-${bootifMac} quiet loglevel=3 ${extra ? extra + ' ' : ''}${KERNEL_CONSOLES}`
}

/**
 * boot.ipxe for a machine whose disk holds its image: no kernel; exit hands
 * the boot back to the firmware, which goes on to the next boot device.
 */
export function localBootScript (reason: string): string {
  return `#!ipxe
echo ezio: ${reason.replace(/[\r\n]/g, ' ')}
exit
`
}

/**
 * boot.ipxe asked without ?mac= (a DHCP server's fixed boot file name): iPXE
 * asks again naming the machine, so that the server can decide its boot.
 * With UNDI_TFTP (ezio serve --pxe: its dnsmasq is that TFTP server), a BIOS
 * machine whose NIC ROM is iPXE itself (QEMU's, some servers') first loads
 * undionly.kpxe from it, as a PC's own PXE ROM does: every BIOS machine then
 * boots through the one iPXE build that ezio ships, and the demo's BIOS
 * guests run the chain a real PC runs. That iPXE names its NIC "undionly".
 */
export function chainScript (hostPort: string, undiTftp?: string): string {
  const undi = undiTftp === undefined
    ? ''
    : `iseq \${platform} pcbios || goto named
iseq \${netX/chip} undionly || chain tftp://${undiTftp}/undionly.kpxe ||
:named
`
  return `#!ipxe
${undi}chain http://${hostPort}/boot/boot.ipxe?mac=\${netX/mac}
`
}
