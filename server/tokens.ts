import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'

export interface Tokens {
  /** The secret that each machine's report token is made from (reportToken). */
  machine: string
  /** Printed at start: pause, resume and other control actions need it. */
  operator: string
}

/** Tokens survive a restart, so that clones in progress can still report. */
export async function loadTokens (stateDir: string): Promise<Tokens> {
  const file = path.join(stateDir, 'tokens.json')
  try {
    const t = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Tokens>
    if (typeof t.machine === 'string' && typeof t.operator === 'string') return { machine: t.machine, operator: t.operator }
  } catch {}
  const tokens = { machine: randomBytes(12).toString('hex'), operator: randomBytes(12).toString('hex') }
  await fs.writeFile(file, JSON.stringify(tokens) + '\n', { mode: 0o600 })
  return tokens
}

/**
 * Machine ID's own report token, carried in the report URL of its config:
 * a report is taken only for the id its token was made for. Made from the
 * secret, not stored: a restarted server knows every token it handed out.
 */
export function reportToken (secret: string, id: string): string {
  return createHmac('sha256', secret).update(id).digest('hex').slice(0, 32)
}

export function reportTokenOk (secret: string, id: string, token: string | null): boolean {
  return same(reportToken(secret, id), token)
}

/**
 * The token that lets machine ID send its own disk to the image store as
 * NAME, and nothing else: carried in its capture config, made from the same
 * secret, and taken only while the operator's mark says so.
 */
export function captureToken (secret: string, id: string, name: string): string {
  return createHmac('sha256', secret).update(`capture\n${id}\n${name}`).digest('hex').slice(0, 32)
}

export function captureTokenOk (secret: string, id: string, name: string, token: string | null): boolean {
  return same(captureToken(secret, id, name), token)
}

function same (want: string, token: string | null): boolean {
  const w = Buffer.from(want)
  const got = Buffer.from(token ?? '')
  return got.length === w.length && timingSafeEqual(got, w)
}
