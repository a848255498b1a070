import { createHash, type KeyObject } from 'node:crypto'
import type { CaptureConfig, DeployConfig } from './config.ts'

type Signed = Pick<DeployConfig, 'machine' | 'infoHash' | 'target' | 'after' | 'seedRatio' | 'seedIdle'> | Pick<CaptureConfig, 'capture' | 'replace' | 'machine' | 'target' | 'after'>

/**
 * The bytes a server signs for one machine's config: every field that says
 * what is written (or, for a capture, which disk is read and what it is
 * stored as) and how, and the torrent's info hash. The URLs are left out:
 * they follow the Host header, and a torrent fetched from anywhere is held
 * to the signed info hash; peers can only hand out pieces of it. A capture
 * goes to the server its config came from, never to a URL the config names.
 */
export function signedPayload (c: Signed): Buffer {
  if ('capture' in c) {
    const fields = { machine: c.machine, capture: c.capture, replace: c.replace, target: c.target, after: c.after }
    return Buffer.from('ezio-capture-v1\n' + JSON.stringify(fields))
  }
  const fields = { machine: c.machine, infoHash: c.infoHash, target: c.target, after: c.after, seedRatio: c.seedRatio, seedIdle: c.seedIdle }
  return Buffer.from('ezio-config-v1\n' + JSON.stringify(fields))
}

/** The file ezio serve puts into the initrd it serves (/etc/ezio/server.json): the key its machines pin. */
export interface PinnedServer {
  /** Who the key is: "ezio serve on HOST", said when a config is refused. */
  name: string
  /** The server's ed25519 public key, SPKI PEM. */
  publicKey: string
}

export const PINNED_SERVER_PATH = 'etc/ezio/server.json'

/** A public key as a person compares it: SHA256: and the base64 of its hash, as ssh-keygen -l shows keys. */
export function keyFingerprint (publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' })
  return 'SHA256:' + createHash('sha256').update(der).digest('base64').replace(/=+$/, '')
}
