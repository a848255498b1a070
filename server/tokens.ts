import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'

export interface Tokens {
  /** Carried in the report URL of the config: only machines that fetched a config may report. */
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
