import { spawn, type ChildProcess } from 'node:child_process'
import os from 'node:os'
import { EzioError } from '../engine/errors.ts'
import { networkOf } from '../engine/net/ipv4.ts'

export interface ProxyDhcp {
  /** The address machines reach this server at on IFACE. */
  address: string
  stop: () => Promise<void>
}

/** IFACE's IPv4 address and prefix length: where the machines on it reach this server. */
export function interfaceAddress (iface: string): { address: string, prefix: number } {
  const addr = (os.networkInterfaces()[iface] ?? []).find(a => a.family === 'IPv4')
  if (!addr || !addr.cidr) throw new EzioError('usage', `ezio serve --pxe ${iface}: that interface has no IPv4 address; name the interface of the lab network (ip -br addr)`)
  return { address: addr.address, prefix: Number(addr.cidr.split('/')[1]) }
}

/**
 * dnsmasq in proxy-DHCP mode on IFACE: the lab's own DHCP server keeps
 * handing out addresses; dnsmasq only adds the boot information. PXE ROMs get
 * iPXE over TFTP from TFTPROOT (undionly.kpxe for BIOS, snponly.efi for
 * UEFI); iPXE, which says so with option 175, gets boot.ipxe over HTTP from
 * this server. UEFI PCs do not get the signed shim here: Debian's GRUB 2.06,
 * which shim loads, cannot use a proxy DHCP offer (GNU savannah bug #55636)
 * and never finds its TFTP server; the Secure Boot chain needs a DHCP server
 * whose own answer names the TFTP server (README). TFTPROOT carries it too.
 * Supervised: restarted if it dies, stopped with the server.
 */
export function startProxyDhcp (iface: string, httpPort: number, tftpRoot: string, log: (line: string) => void): ProxyDhcp {
  const addr = interfaceAddress(iface)
  const network = networkOf(addr.address, addr.prefix)
  const args = [
    '--keep-in-foreground', '--log-facility=-', '--conf-file=/dev/null', '--pid-file=',
    '--port=0', `--interface=${iface}`, '--bind-interfaces', '--log-dhcp',
    `--dhcp-range=${network},proxy`,
    '--dhcp-match=set:ipxe,175',
    '--pxe-prompt=ezio,0',
    '--pxe-service=tag:!ipxe,x86PC,ezio,undionly.kpxe',
    '--pxe-service=tag:!ipxe,x86-64_EFI,ezio,snponly.efi',
    '--pxe-service=tag:!ipxe,BC_EFI,ezio,snponly.efi',
    `--dhcp-boot=tag:ipxe,http://${addr.address}:${httpPort}/boot/boot.ipxe`,
    '--enable-tftp', `--tftp-root=${tftpRoot}`
  ]
  let child: ChildProcess | undefined
  let stopping = false
  let restarts = 0
  const start = (): void => {
    child = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) log(`dnsmasq: ${line}`)
    })
    child.on('error', err => log(`cannot run dnsmasq (${err.message}): install Debian's dnsmasq-base`))
    child.on('exit', code => {
      if (stopping) return
      log(`dnsmasq exited (${code}); ${restarts < 5 ? 'restarting' : 'giving up: PXE is off, check the messages above'}`)
      if (restarts++ < 5) setTimeout(start, 2000)
    })
  }
  start()
  log(`proxy DHCP on ${iface} (${network}/${addr.prefix}): PXE machines boot from ${addr.address} (BIOS: undionly.kpxe, UEFI: snponly.efi; TFTP from ${tftpRoot})`)
  return {
    address: addr.address,
    stop: () => new Promise(resolve => {
      stopping = true
      if (!child || child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }
}

