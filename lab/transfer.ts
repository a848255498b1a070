import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { ResultPromise } from 'execa'
import type { Host } from './netns.ts'
import { sha256 } from './room.ts'

/** One machine's part in a transfer that is not ezio's (unicast, multicast). */
export interface MachineResult {
  name: string
  /** Seconds from the start until its copy was complete, null when it failed. */
  seconds: number | null
  verified: boolean
  error: string | null
}

export interface TransferResult {
  machines: MachineResult[]
  /** Until the last machine had the whole image, null when one failed. */
  seconds: number | null
  /** When the clients were started (ms since epoch). */
  started: number
}

export interface TransferOptions {
  image: string
  dir: string
  timeoutSeconds?: number
  log?: (line: string) => void
}

/**
 * Starts CLIENT on every machine at once, each writing its own file in DIR,
 * times each until it exits, then checks every file against the image.
 * ALONGSIDE is started at the same instant (a multicast sender) and must
 * succeed too.
 */
export async function timeClients (
  machines: Host[],
  client: (m: Host, file: string) => ResultPromise,
  opts: TransferOptions,
  alongside?: () => ResultPromise
): Promise<TransferResult> {
  const files = machines.map(m => path.join(opts.dir, `${m.name}.copy`))
  await Promise.all(files.map(f => fs.rm(f, { force: true })))
  const started = Date.now()
  const side = alongside?.()
  const ended = await Promise.all(machines.map(async (m, i) => {
    const r = await client(m, files[i]!)
    return { at: Date.now(), exitCode: r.exitCode, out: String(r.all ?? r.stderr ?? '') }
  }))
  const sideResult = await side
  const want = await sha256(opts.image)
  const results: MachineResult[] = []
  for (const [i, m] of machines.entries()) {
    const e = ended[i]!
    const ok = e.exitCode === 0
    const verified = ok && await sha256(files[i]!).catch(() => '') === want
    results.push({
      name: m.name,
      seconds: ok ? (e.at - started) / 1000 : null,
      verified,
      error: ok ? (verified ? null : 'the copy differs from the image') : `exit ${e.exitCode}: ${lastLine(e.out)}`
    })
    await fs.rm(files[i]!, { force: true })
  }
  if (sideResult && sideResult.exitCode !== 0) {
    for (const r of results) r.error ??= `the sender failed (exit ${sideResult.exitCode}): ${lastLine(String(sideResult.all ?? ''))}`
  }
  const times = results.map(r => r.seconds)
  return { machines: results, seconds: times.every(s => s !== null) ? Math.max(...(times as number[])) : null, started }
}

function lastLine (out: string): string {
  return out.trim().split('\n').at(-1)?.slice(0, 200) || 'no output'
}
