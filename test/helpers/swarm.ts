import type { ResultPromise } from 'execa'
import type { Test } from 'tap'
import type { CloneStatus } from '../../protocol/status.ts'
import { ezioProcess } from './ezio.ts'
import { freePort, waitFor } from './net.ts'

export interface Running {
  proc: ResultPromise
  /** Everything the process wrote on stderr so far. */
  stderr: () => string
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<{ exitCode: number | undefined, signal: string | undefined }>
}

/** Starts `ezio ARGS`, following its stderr live; killed when the test ends. */
export function startEzio (t: Test, args: string[]): Running {
  const proc = ezioProcess(args)
  let err = ''
  proc.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exited = proc.then(r => ({ exitCode: r.exitCode, signal: r.signal }))
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL')
      await exited
    }
  })
  return { proc, stderr: () => err, exited }
}

export interface Seeder extends Running {
  port: number
  peer: string
}

/** `ezio seed TORRENT IMAGE ARGS` on PORT (a free one by default), once it says it is seeding. */
export async function startSeeder (t: Test, torrent: string, image: string, args: string[] = [], host = '127.0.0.1', port?: number): Promise<Seeder> {
  port ??= await freePort(host)
  const run = startEzio(t, ['seed', torrent, image, '--bt-port', String(port), ...args])
  let ended = false
  void run.exited.then(() => { ended = true })
  await waitFor(`the seeder of ${image} to start`, () => {
    if (ended) throw new Error(`ezio seed exited early: ${run.stderr()}`)
    return /^seeding .* on port \d+$/m.test(run.stderr()) ? true : undefined
  }, 60_000, 50)
  return { ...run, port, peer: `${host}:${port}` }
}

export interface Clone extends Running {
  /** The JSON status objects printed so far (--progress json). */
  statuses: () => CloneStatus[]
  last: () => CloneStatus | undefined
}

/** `ezio clone TORRENT TARGET --progress json ARGS`, its statuses parsed as they come. */
export function startClone (t: Test, torrent: string, target: string, args: string[] = []): Clone {
  const run = startEzio(t, ['clone', torrent, target, '--progress', 'json', ...args])
  const statuses = (): CloneStatus[] => parseStatuses(run.stderr())
  return { ...run, statuses, last: () => statuses().at(-1) }
}

export function parseStatuses (stderr: string): CloneStatus[] {
  return stderr.split('\n').filter(l => l.startsWith('{') && l.endsWith('}')).map(l => JSON.parse(l) as CloneStatus)
}

/** The closing summary line of a clone ("cloned ..." or "failed ..."). */
export function summaryOf (stderr: string): string | undefined {
  return stderr.split('\n').find(l => /^(cloned|failed) /.test(l))
}
