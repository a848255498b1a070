import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { promises as fs } from 'node:fs'
import { EzioError } from '../engine/errors.ts'
import type { TorrentMeta } from '../engine/torrent/load.ts'
import { isCapture, type BootConfig, type DeployConfig } from '../protocol/config.ts'
import { keyFingerprint, signedPayload, type PinnedServer } from '../protocol/signature.ts'

/** The server this machine booted from, as the initrd it served names it. */
export interface Pinned {
  name: string
  key: KeyObject
  fingerprint: string
}

/** --server-key FILE: the /etc/ezio/server.json that ezio serve appended to its initrd. */
export async function loadPinned (file: string): Promise<Pinned> {
  let p: Partial<PinnedServer>
  try {
    p = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<PinnedServer>
    if (typeof p.name !== 'string' || typeof p.publicKey !== 'string') throw new Error('no "name" and "publicKey"')
    const key = createPublicKey(p.publicKey)
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType ?? 'unknown'} key, not ed25519`)
    return { name: p.name.slice(0, 200), key, fingerprint: keyFingerprint(key) }
  } catch (err) {
    throw new EzioError('usage', `ezio boot: --server-key ${file} is not the server key that ezio serve writes (${(err as Error).message})`)
  }
}

function who (p: Pinned): string {
  return `${p.name}, key ${p.fingerprint}`
}

/**
 * With a pinned key, the config must carry that server's signature, made
 * for this machine (or for any): another server on the segment, or any host
 * answering HTTP in its place, cannot hand the machine another image. A
 * capture config is made for one machine only, never for any: it sends the
 * disk away.
 */
export function checkConfigSigned (config: BootConfig, pinned: Pinned | undefined, id: string, url: string): void {
  if (!pinned) {
    // The server, not the config's URL: on the PC's screen the escaped MAC made this line three rows long.
    process.stderr.write(`ezio: no server key pinned (an initrd not served by ezio serve, or ezio boot by hand): accepting ${new URL(url).origin} unchecked\n`)
    return
  }
  const refuse = (why: string): never => {
    throw new EzioError('untrusted', `${url} ${why}; this machine booted from ${who(pinned)}: refusing it (boot it from the server that should image it)`)
  }
  if (!config.signature || config.machine === undefined || (!isCapture(config) && !config.infoHash)) refuse('sent an unsigned config')
  if (!verify(null, signedPayload(config), pinned.key, Buffer.from(config.signature!, 'base64'))) refuse('sent a config not signed by this machine\'s server')
  if ((config.machine !== '*' || isCapture(config)) && config.machine !== id) refuse(`sent a config signed for ${config.machine}, not for ${id}`)
  process.stderr.write(`ezio: the config is signed by ${who(pinned)}, the server this machine booted from\n`)
}

/** The torrent must be the one the signed config names: the torrent file itself is not signed (its announce URL follows the Host header). */
export function checkTorrentSigned (meta: TorrentMeta, config: DeployConfig, pinned: Pinned | undefined, url: string): void {
  if (!pinned || meta.infoHash === config.infoHash) return
  throw new EzioError('untrusted', `the torrent from ${url} (info hash ${meta.infoHash}) is not the one ${who(pinned)} signed (${config.infoHash}): refusing it`)
}
