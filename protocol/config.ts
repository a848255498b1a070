import { isImageName } from './capture.ts'
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

/**
 * What `ezio serve` hands a machine the operator marked "capture as NAME":
 * its disk goes to the server's image store (docs/capture.md), the server
 * being the one it fetched this from.
 */
export interface CaptureConfig {
  version: 1
  /** The image name the disk is stored as. */
  capture: string
  replace: boolean
  /** The disk to read: "auto" or a device. */
  target: string
  after: AfterAction
  /** The machine's capture token: /api/captures takes it for this machine and this name only. */
  token: string
  /** Where the machine says that it failed before the server heard of its capture. */
  report: string
  machine: string
  signature?: string
}

export type BootConfig = DeployConfig | CaptureConfig

export function isCapture (c: BootConfig): c is CaptureConfig {
  return 'capture' in c
}

type Bad = (field: string, want: string) => never

/** The config a machine fetched, checked field by field; SOURCE names it in errors. */
export function parseConfig (text: string, source: string): BootConfig {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ProtocolError(`the config from ${source} is not JSON (${(err as Error).message}): is ${source} an ezio server?`)
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
  const bad: Bad = (field, want) => {
    throw new ProtocolError(`the config from ${source} has no valid "${field}" (${want}): update the server or the appliance so that their versions match`)
  }
  if (o.version !== 1) bad('version', '1')
  if (typeof o.target !== 'string' || o.target === '') bad('target', '"auto" or a device')
  if (!afterActions.includes(o.after as AfterAction)) bad('after', afterActions.join('|'))
  if (typeof o.report !== 'string' || (o.report !== '' && !httpUrl(o.report))) bad('report', 'an http:// URL, or "" for none')
  return 'capture' in o ? captureConfig(o as Partial<CaptureConfig>, bad) : deployConfig(o as Partial<DeployConfig>, bad)
}

function captureConfig (c: Partial<CaptureConfig>, bad: Bad): CaptureConfig {
  if (!isImageName(c.capture)) bad('capture', 'an image name')
  if (typeof c.replace !== 'boolean') bad('replace', 'true or false')
  if (typeof c.token !== 'string' || !/^[0-9a-f]{32}$/.test(c.token)) bad('token', '32 hex digits')
  if (typeof c.machine !== 'string' || c.machine.length > 64 || c.machine === '*') bad('machine', 'a machine id')
  if (c.signature !== undefined) checkSignature(c.signature, bad)
  return c as CaptureConfig
}

function deployConfig (c: Partial<DeployConfig>, bad: Bad): DeployConfig {
  if (typeof c.torrent !== 'string') bad('torrent', 'a URL')
  if (typeof c.seedRatio !== 'number' || c.seedRatio < 0) bad('seedRatio', 'a number >= 0')
  if (typeof c.seedIdle !== 'number' || c.seedIdle < 0) bad('seedIdle', 'seconds >= 0')
  if (!httpUrl(c.torrent!)) bad('torrent', 'an http:// URL')
  if (!Array.isArray(c.peers) || c.peers.length > 64 || !c.peers.every(isHostPort)) bad('peers', 'a list of at most 64 HOST:PORT')
  // Unsigned configs (an older server) have none of the three; a signed one has all.
  if (c.machine !== undefined || c.infoHash !== undefined || c.signature !== undefined) {
    if (typeof c.machine !== 'string' || c.machine.length > 64) bad('machine', 'a machine id, or *')
    if (typeof c.infoHash !== 'string' || !/^[0-9a-f]{40}$/.test(c.infoHash)) bad('infoHash', '40 hex digits')
    checkSignature(c.signature, bad)
  }
  return c as DeployConfig
}

function checkSignature (signature: unknown, bad: Bad): void {
  if (typeof signature !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(signature)) bad('signature', 'an ed25519 signature, base64')
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
