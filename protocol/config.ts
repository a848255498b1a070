import { ProtocolError } from './error.ts'

export type AfterAction = 'reboot' | 'poweroff' | 'shell'
export const afterActions: readonly AfterAction[] = ['reboot', 'poweroff', 'shell']

/** What `ezio serve` hands a lab machine at GET /ezio.json. */
export interface DeployConfig {
  version: 1
  torrent: string
  target: string
  after: AfterAction
  seedRatio: number
  seedIdle: number
  peers: string[]
  report: string
  /** The machine this config was made for ('*': any), the torrent's info hash, and the server's ed25519 signature of both and the fields above (protocol/signature.ts). */
  machine?: string
  infoHash?: string
  signature?: string
}

/** The config a machine fetched, checked field by field; SOURCE names it in errors. */
export function parseConfig (text: string, source: string): DeployConfig {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ProtocolError(`the config from ${source} is not JSON (${(err as Error).message}): is ${source} an ezio server?`)
  }
  const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<DeployConfig>
  const bad = (field: string, want: string): never => {
    throw new ProtocolError(`the config from ${source} has no valid "${field}" (${want}): update the server or the appliance so that their versions match`)
  }
  if (c.version !== 1) bad('version', '1')
  if (typeof c.torrent !== 'string') bad('torrent', 'a URL')
  if (typeof c.target !== 'string' || c.target === '') bad('target', '"auto" or a device')
  if (!afterActions.includes(c.after as AfterAction)) bad('after', afterActions.join('|'))
  if (typeof c.seedRatio !== 'number' || c.seedRatio < 0) bad('seedRatio', 'a number >= 0')
  if (typeof c.seedIdle !== 'number' || c.seedIdle < 0) bad('seedIdle', 'seconds >= 0')
  if (!httpUrl(c.torrent!)) bad('torrent', 'an http:// URL')
  if (!Array.isArray(c.peers) || c.peers.length > 64 || !c.peers.every(isHostPort)) bad('peers', 'a list of at most 64 HOST:PORT')
  if (typeof c.report !== 'string' || (c.report !== '' && !httpUrl(c.report))) bad('report', 'an http:// URL, or "" for none')
  // Unsigned configs (an older server) have none of the three; a signed one has all.
  if (c.machine !== undefined || c.infoHash !== undefined || c.signature !== undefined) {
    if (typeof c.machine !== 'string' || c.machine.length > 64) bad('machine', 'a machine id, or *')
    if (typeof c.infoHash !== 'string' || !/^[0-9a-f]{40}$/.test(c.infoHash)) bad('infoHash', '40 hex digits')
    if (typeof c.signature !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(c.signature)) bad('signature', 'an ed25519 signature, base64')
  }
  return c as DeployConfig
}

function httpUrl (text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol)
  } catch {
    return false
  }
}

/** IPv4, a host name, or [IPv6], then a port from 1 to 65535: a peer as a config or --peer names it. */
export function isHostPort (p: unknown): boolean {
  const m = typeof p === 'string' ? /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(p) : null
  return !!m && Number(m[2]) >= 1 && Number(m[2]) <= 65535
}
