/**
 * boot.ipxe: iPXE fetches kernel and initrd over HTTP from this server
 * (faster than TFTP) and tells the appliance which NIC it booted from.
 */
export function bootScript (hostPort: string, extraArgs = ''): string {
  const base = `http://${hostPort}`
  return `#!ipxe
echo ezio: booting the cloning appliance from ${base}
kernel ${base}/boot/vmlinuz initrd=initrd.img ezio.server=${base} BOOTIF=01-\${netX/mac:hexhyp} console=tty0 console=ttyS0,115200n8 quiet loglevel=3 ${extraArgs}
initrd ${base}/boot/initrd.img
boot || shell
`
}
