import dgram from 'node:dgram'
import os from 'node:os'
import { intToIpv4, ipv4ToInt, prefixMask } from '../engine/net/ipv4.ts'

interface Segment {
  iface: string
  address: string
  broadcast: string
  network: number
  mask: number
}

/** Where a magic packet went: the directed broadcast of each interface, from its address. */
export interface WakeSent {
  id: string
  sentTo: string[]
}

/** Wake-on-LAN: six 0xff bytes, then the MAC sixteen times. */
export function magicPacket (mac: Buffer): Buffer {
  return Buffer.concat([Buffer.alloc(6, 0xff), ...Array<Buffer>(16).fill(mac)])
}

/**
 * Sends MAC's magic packet to UDP ports 9 and 7 at the directed broadcast
 * of the segment the machine was last seen on (LASTIP), from a socket bound
 * to that interface's address, so that it leaves on the right wire; where
 * no interface's subnet holds LASTIP, on every interface with an IPv4
 * broadcast address.
 */
export async function wake (id: string, mac: Buffer, lastIp: string | undefined): Promise<WakeSent> {
  const all = segments()
  const ip = lastIp && /^\d+\.\d+\.\d+\.\d+$/.test(lastIp) ? ipv4ToInt(lastIp) : undefined
  const own = ip === undefined ? [] : all.filter(s => ((ip & s.mask) >>> 0) === s.network)
  const targets = own.length > 0 ? own : all
  const packet = magicPacket(mac)
  for (const s of targets) await sendFrom(s, packet)
  return { id, sentTo: targets.map(s => `${s.broadcast} (${s.iface})`) }
}

function segments (): Segment[] {
  const out: Segment[] = []
  for (const [iface, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal || !a.cidr) continue
      const prefix = Number(a.cidr.split('/')[1])
      if (prefix >= 31) continue
      const mask = prefixMask(prefix)
      const network = (ipv4ToInt(a.address) & mask) >>> 0
      out.push({ iface, address: a.address, network, mask, broadcast: intToIpv4((network | ~mask) >>> 0) })
    }
  }
  return out
}

function sendFrom (s: Segment, packet: Buffer): Promise<void> {
  const socket = dgram.createSocket('udp4')
  const send = (port: number): Promise<void> => new Promise((resolve, reject) => socket.send(packet, port, s.broadcast, err => err ? reject(err) : resolve()))
  return new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind({ address: s.address, port: 0 }, () => {
      socket.setBroadcast(true)
      Promise.all([send(9), send(7)]).then(() => resolve(), reject)
    })
  }).finally(() => socket.close())
}
