import { execa, type ResultPromise } from 'execa'
import { bundle, node } from './paths.ts'

export interface EzioRun {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs `ezio ARGS` from the bundle to the end; never throws on a non-zero exit. */
export async function ezio (args: string[], opts: { timeout?: number, env?: Record<string, string>, input?: string } = {}): Promise<EzioRun> {
  const r = await execa(node, [bundle, ...args], { reject: false, timeout: opts.timeout ?? 120_000, env: opts.env, input: opts.input ?? '' })
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) }
}

/** Starts `ezio ARGS` in the background; the caller must kill it (t.teardown). */
export function ezioProcess (args: string[], opts: { env?: Record<string, string> } = {}): ResultPromise {
  return execa(node, [bundle, ...args], { reject: false, env: opts.env, stdin: 'ignore', buffer: true, all: true })
}
