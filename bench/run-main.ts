import type { ResultPromise } from 'execa'

/** Processes a benchmark started and clean-up steps it registered: both undone at its end. */
export const children: ResultPromise[] = []
export const cleanups: Array<() => Promise<unknown>> = []

async function cleanup (): Promise<void> {
  for (const c of children) c.kill('SIGKILL')
  await Promise.allSettled(children)
  for (const c of cleanups) await c().catch(() => {})
}

/**
 * Runs a benchmark's MAIN and cleans up after it, also on a failure or
 * Ctrl-C, so that no process or temporary file outlives the benchmark.
 */
export function runMain (main: () => Promise<void>): void {
  main().then(cleanup, async (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`)
    await cleanup()
    process.exit(1)
  })
  process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)) })
}

/** The middle of XS (the mean of the two middle ones for an even count). */
export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
