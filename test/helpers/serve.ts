import type { Test } from 'tap'
import { freePort, waitFor } from './net.ts'
import { startEzio, type Running } from './swarm.ts'

export interface Served extends Running {
  port: number
  btPort: number
  url: string
  operatorToken: string
  /** What it printed on stdout: its start-up line. */
  startLine: () => string
  /** GET PATH on the server, as JSON. */
  json: <T>(path: string) => Promise<T>
}

/**
 * `ezio serve IMAGE ARGS` on free ports, once it has printed its dashboard
 * line (IMAGE '': none, the image store's only). advertise: false leaves addresses to the Host header (VM guests);
 * acceptAll: false leaves admission to ARGS (else --accept-all).
 */
export async function startServe (t: Test, image: string, stateDir: string, args: string[] = [], opts: { port?: number, btPort?: number, advertise?: false, acceptAll?: false } = {}): Promise<Served> {
  const port = opts.port ?? await freePort()
  const btPort = opts.btPort ?? await freePort()
  const advertise = opts.advertise === false ? [] : ['--advertise', `127.0.0.1:${port}`]
  const admission = opts.acceptAll === false || args.includes('--allow') ? [] : ['--accept-all']
  const run = startEzio(t, ['serve', ...(image ? [image] : []), '--port', String(port), '--bt-port', String(btPort), '--state', stateDir, ...advertise, ...admission, ...args])
  let out = ''
  run.proc.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  let ended = false
  void run.exited.then(() => { ended = true })
  const token = await waitFor('ezio serve to print its dashboard line', () => {
    if (ended) throw new Error(`ezio serve exited early: ${run.stderr()}`)
    return /dashboard \S+\?token=([0-9a-f]+)/.exec(out)?.[1]
  }, 120_000, 100)
  const url = `http://127.0.0.1:${port}`
  return {
    ...run,
    port,
    btPort,
    url,
    operatorToken: token,
    startLine: () => out,
    json: async <T>(path: string): Promise<T> => {
      const res = await fetch(url + path)
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`)
      return await res.json() as T
    }
  }
}
