import type { IncomingMessage } from 'node:http'
import os from 'node:os'

/**
 * The host a machine used to reach this server (its Host header), or the
 * operator's --advertise: every URL handed to a machine is built from it, so
 * that a remote machine is never told 127.0.0.1.
 */
export function requestHost (req: IncomingMessage, advertise: string | undefined, port: number): { host: string, hostPort: string } {
  if (advertise) return { host: stripPort(advertise), hostPort: advertise.includes(':') && !advertise.startsWith('[') ? advertise : `${advertise}:${port}` }
  const header = req.headers.host ?? `${req.socket.localAddress ?? '127.0.0.1'}:${port}`
  return { host: stripPort(header), hostPort: header.includes(':') && !/^\[[^\]]*\]$/.test(header) ? header : `${header}:${port}` }
}

function stripPort (hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(0, hostPort.indexOf(']') + 1)
  return hostPort.split(':')[0] ?? hostPort
}

/** The address to print at start: the first non-internal IPv4, else loopback. */
export function primaryAddress (): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return '127.0.0.1'
}

export function remoteIp (req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')
}
