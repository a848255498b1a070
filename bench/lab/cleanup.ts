import { promises as fs } from 'node:fs'
import type { Network } from '../../lab/netns.ts'

const networks = new Set<Network>()
const dirs = new Set<string>()
let cleaning: Promise<void> | undefined

/** Keeps NET to be destroyed on Ctrl-C; returns NET. */
export function tracked (net: Network): Network {
  networks.add(net)
  return net
}

export async function release (net: Network): Promise<void> {
  await net.destroy()
  networks.delete(net)
}

export function trackDir (dir: string): string {
  dirs.add(dir)
  return dir
}

/** Destroys every network (ending every process in it) and removes every work directory. */
export function cleanupAll (): Promise<void> {
  cleaning ??= (async () => {
    for (const net of networks) await net.destroy().catch(() => {})
    networks.clear()
    for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true }).catch(() => {})
    dirs.clear()
  })()
  return cleaning
}

/** Ctrl-C, kill, a hang-up or a crash leave nothing behind: namespaces, processes in them, files. */
export function cleanUpOnSignals (): void {
  // A closed pipe (bench/lab/run | head) must not end the run without cleaning up.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, (err: unknown) => {
      process.stderr.write(`bench/lab crashed: ${(err as Error)?.stack ?? String(err)}\n`)
      void cleanupAll().then(() => process.exit(1))
    })
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // A second Ctrl-C must not cut the cleanup short.
    process.on(signal, () => {
      if (cleaning) { process.stderr.write('bench/lab: still cleaning up\n'); return }
      process.stderr.write(`\nbench/lab: ${signal}: removing the lab's namespaces, processes and files\n`)
      void cleanupAll().then(() => process.exit(signal === 'SIGINT' ? 130 : 143))
    })
  }
}
