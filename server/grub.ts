import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { applianceArgs } from './ipxe.ts'
import { writeInitrd } from './served-initrd.ts'

/**
 * grub/grub.cfg for the Secure Boot path: shim → Debian's signed GRUB
 * network image, whose built-in config reads $prefix/grub.cfg from the TFTP
 * server it came from (prefix /grub). That GRUB has no http module (and
 * loads no module under Secure Boot), so kernel and initrd come over TFTP;
 * the kernel line is boot.ipxe's. GRUB names the boot NIC's MAC with colons,
 * which init reads as well as iPXE's hyphens.
 */
export function grubConfig (base: string, extraArgs: string): string {
  return `# Written by ezio serve at each start: it names this server.
set timeout=0
echo "ezio: booting the cloning appliance (Secure Boot path: shim, GRUB) from ${base}"
linux (tftp)/vmlinuz ${applianceArgs(base, '${net_default_mac}', extraArgs)}
initrd (tftp)/initrd.img
boot
`
}

// What PXE firmware fetches over TFTP: from the netboot build, and GRUB's config.
const TFTP_FILES = ['undionly.kpxe', 'snponly.efi', 'shimx64.efi', 'grubx64.efi', 'vmlinuz']

/**
 * The TFTP root dnsmasq serves with --pxe: links to the netboot files, the
 * initrd with KEYARCHIVE after it (a copy: TFTP serves files as they are),
 * and grub/grub.cfg written for this server. A fresh directory under the system's
 * temporary directory, readable by all: dnsmasq reads files as an unprivileged
 * user, who cannot reach a state directory under /root.
 */
export async function writeTftpRoot (netbootDir: string, config: string, keyArchive: Buffer): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ezio-tftp-'))
  await fs.chmod(root, 0o755)
  await fs.mkdir(path.join(root, 'grub'), { mode: 0o755 })
  for (const f of TFTP_FILES) await fs.symlink(path.join(netbootDir, f), path.join(root, f))
  // A missing initrd is said at start (warnMissingNetboot), and TFTP then answers not found.
  await writeInitrd(path.join(netbootDir, 'initrd.img'), keyArchive, path.join(root, 'initrd.img')).catch(() => {})
  await fs.writeFile(path.join(root, 'grub/grub.cfg'), config, { mode: 0o644 })
  return root
}
