import { promises as fs } from 'node:fs'
import { lookup } from 'node:dns/promises'
import os from 'node:os'
import { ipv4ToInt } from '../engine/net/ipv4.ts'

/**
 * The MAC address of the interface that routes to HOST: what a lab admin
 * reads on the machine's label and in the DHCP server. Falls back to the
 * hostname where there is no such interface (loopback).
 */
export async function machineId (host: string | undefined): Promise<string> {
  try {
    const iface = host ? await routeInterface(host) : undefined
    const mac = iface ? (await fs.readFile(`/sys/class/net/${iface}/address`, 'utf8')).trim() : undefined
    if (mac && mac !== '00:00:00:00:00:00') return mac
  } catch {}
  return os.hostname()
}

async function routeInterface (host: string): Promise<string | undefined> {
  const { address } = await lookup(host, { family: 4 })
  const ip = ipv4ToInt(address)
  const lines = (await fs.readFile('/proc/net/route', 'utf8')).trim().split('\n').slice(1)
  let best: { iface: string, bits: number } | undefined
  for (const line of lines) {
    const [iface, dest, , , , , , mask] = line.trim().split(/\s+/)
    if (!iface || !dest || !mask) continue
    const d = leHexToInt(dest)
    const m = leHexToInt(mask)
    if (((ip & m) >>> 0) !== d) continue
    const bits = popcount(m)
    if (!best || bits > best.bits) best = { iface, bits }
  }
  if (best) return best.iface
  return address.startsWith('127.') ? 'lo' : undefined
}

// /proc/net/route prints addresses as host-order (little-endian) hex.
function leHexToInt (hex: string): number {
  const n = Number.parseInt(hex, 16)
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0
}

function popcount (n: number): number {
  let c = 0
  for (let x = n; x; x >>>= 1) c += x & 1
  return c
}
