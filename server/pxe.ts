import { spawn, type ChildProcess } from 'node:child_process'
import os from 'node:os'
import { EzioError } from '../engine/errors.ts'
import { ipv4ToInt, networkOf } from '../engine/net/ipv4.ts'

export interface PxeDhcp {
  /** The address machines reach this server at on IFACE. */
  address: string
  stop: () => Promise<void>
}

/** --dhcp-range FIRST-LAST: the addresses ezio serve hands out when it is the network's DHCP server. */
export interface DhcpRange { first: string, last: string }

/** Being the network's DHCP server: RANGE, and the lease file that keeps each machine's address across restarts. */
export interface DhcpServer { range: DhcpRange, leaseFile: string }

/** IFACE's IPv4 address and prefix length: where the machines on it reach this server. */
export function interfaceAddress (iface: string): { address: string, prefix: number } {
  const addr = (os.networkInterfaces()[iface] ?? []).find(a => a.family === 'IPv4')
  if (!addr || !addr.cidr) throw new EzioError('usage', `ezio serve --pxe ${iface}: that interface has no IPv4 address; name the interface of the lab network (ip -br addr)`)
  return { address: addr.address, prefix: Number(addr.cidr.split('/')[1]) }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/

/** FIRST-LAST, both on IFACE's network, FIRST ≤ LAST, this server's own address outside it. */
export function dhcpRangeOf (spec: string, iface: string): DhcpRange {
  const [first = '', last = '', ...rest] = spec.split('-')
  const bad = (why: string): never => { throw new EzioError('usage', `ezio serve: --dhcp-range ${spec}: ${why}`) }
  if (rest.length > 0 || !IPV4.test(first) || !IPV4.test(last)) bad('give FIRST-LAST, two IPv4 addresses (e.g. 10.99.0.100-10.99.0.199)')
  const { address, prefix } = interfaceAddress(iface)
  const network = networkOf(address, prefix)
  if (networkOf(first, prefix) !== network || networkOf(last, prefix) !== network) bad(`both ends must be on ${iface}'s network, ${network}/${prefix}`)
  if (ipv4ToInt(first) > ipv4ToInt(last)) bad('FIRST comes after LAST')
  if (ipv4ToInt(first) <= ipv4ToInt(address) && ipv4ToInt(address) <= ipv4ToInt(last)) bad(`it holds this server's own address, ${address}`)
  return { first, last }
}

/**
 * What dnsmasq tells each kind of client. iPXE, which says so with option
 * 175, gets boot.ipxe over HTTP from this server; PXE ROMs get iPXE over
 * TFTP. In proxy mode (the lab's DHCP server keeps handing out addresses,
 * dnsmasq only adds the boot information) UEFI gets snponly.efi: Debian's
 * GRUB 2.06, which shim loads, cannot use a proxy DHCP offer (GNU savannah
 * bug #55636) and never finds its TFTP server. As the network's own DHCP
 * server (DHCP) dnsmasq's answer names the TFTP server itself, and UEFI gets
 * the signed shim, which runs with Secure Boot on or off.
 */
function dnsmasqBootArgs (address: string, network: string, httpPort: number, dhcp?: DhcpServer): string[] {
  // iPXE takes a proxy answer only if it names a next server (siaddr) with the file.
  const ipxe = `--dhcp-boot=tag:ipxe,http://${address}:${httpPort}/boot/boot.ipxe,${address},${address}`
  if (!dhcp) {
    return [`--dhcp-range=${network},proxy`, '--dhcp-match=set:ipxe,175', '--pxe-prompt=ezio,0',
      '--pxe-service=tag:!ipxe,x86PC,ezio,undionly.kpxe',
      '--pxe-service=tag:!ipxe,x86-64_EFI,ezio,snponly.efi',
      '--pxe-service=tag:!ipxe,BC_EFI,ezio,snponly.efi', ipxe]
  }
  return [`--dhcp-range=${dhcp.range.first},${dhcp.range.last},12h`, '--dhcp-authoritative', `--dhcp-leasefile=${dhcp.leaseFile}`,
    '--dhcp-match=set:ipxe,175', '--dhcp-match=set:efi64,option:client-arch,7', '--dhcp-match=set:efi64,option:client-arch,9',
    ipxe,
    `--dhcp-boot=tag:!ipxe,tag:efi64,shimx64.efi,${address},${address}`,
    `--dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe,${address},${address}`]
}

/**
 * dnsmasq on IFACE for PXE: in proxy mode beside the lab's DHCP server, or,
 * given DHCP, as the DHCP server of a network of its own (an imaging VLAN).
 * TFTP from TFTPROOT. Supervised: restarted if it dies, stopped with the server.
 */
export function startPxeDhcp (iface: string, httpPort: number, tftpRoot: string, log: (line: string) => void, dhcp?: DhcpServer): PxeDhcp {
  const addr = interfaceAddress(iface)
  const network = networkOf(addr.address, addr.prefix)
  const args = [
    '--keep-in-foreground', '--log-facility=-', '--conf-file=/dev/null', '--pid-file=',
    '--port=0', `--interface=${iface}`, '--bind-interfaces', '--log-dhcp',
    ...dnsmasqBootArgs(addr.address, network, httpPort, dhcp),
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
  log(dhcp
    ? `DHCP server on ${iface} (${dhcp.range.first}-${dhcp.range.last}): PXE machines boot from ${addr.address} (BIOS: undionly.kpxe, UEFI: shimx64.efi, Secure Boot on or off; TFTP from ${tftpRoot})`
    : `proxy DHCP on ${iface} (${network}/${addr.prefix}): PXE machines boot from ${addr.address} (BIOS: undionly.kpxe, UEFI: snponly.efi; TFTP from ${tftpRoot})`)
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

