import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { BootConfig } from '../protocol/config.ts'
import { keyFingerprint, signedPayload, type PinnedServer } from '../protocol/signature.ts'

/** The server's ed25519 key pair: it signs every config; the initrd it serves carries the public half. */
export interface SigningKey {
  privateKey: KeyObject
  pinned: PinnedServer
  fingerprint: string
}

/**
 * STATE/signing-key.pem, made at the first start and kept: machines pin its
 * public half through the initrd, so a new key would make every machine
 * booted before it refuse this server until it boots again.
 */
export async function loadSigningKey (stateDir: string): Promise<SigningKey> {
  const file = path.join(stateDir, 'signing-key.pem')
  let pem = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (pem === undefined) {
    pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    await fs.writeFile(file, pem, { mode: 0o600, flag: 'wx' })
  }
  const privateKey = createPrivateKey(pem)
  const publicKey = createPublicKey(privateKey)
  return {
    privateKey,
    pinned: { name: `ezio serve on ${os.hostname()}`, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string },
    fingerprint: keyFingerprint(publicKey)
  }
}

/** CONFIG with its signature: what the machine it names can check against the pinned key. */
export function signConfig<C extends BootConfig> (key: SigningKey, config: C): C {
  return { ...config, signature: sign(null, signedPayload(config), key.privateKey).toString('base64') }
}
