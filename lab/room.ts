import { createHash } from 'node:crypto'
import { createReadStream, promises as fs } from 'node:fs'
import path from 'node:path'
import type { ResultPromise } from 'execa'
import type { Machine } from '../server/machines.ts'
import type { Host, Network } from './netns.ts'

export const root = path.resolve(import.meta.dirname, '..')
/** The same single executable that goes into the initramfs. */
export const ezioBin = path.join(root, 'dist/ezio')

export interface MachineOutcome {
  name: string
  /** Seconds from the room's start until it had the whole image on disk. */
  seconds: number | null
  /** Seconds from the room's start until the server saw its clone start (torrent fetched, first report): the boot before the swarm. */
  startS: number | null
  fromSeeder: number
  fromPeers: number
  uploaded: number
  /** CPU seconds (user and system) of its ezio process, start to exit. */
  cpuSeconds: number | null
  verified: boolean
  exitCode: number | undefined
  error: string | null
}

export interface RoomOutcome {
  machines: MachineOutcome[]
  /** Until the last machine had the whole image. */
  seconds: number | null
  seederUploaded: number
  /** CPU seconds of ezio serve (tracker, seeder, web), start to end. */
  serverCpuSeconds: number | null
  /** When the machines were started (ms since epoch). */
  started: number
}

export interface RoomOptions {
  image: string
  dir: string
  seedRatio?: number
  seedIdle?: number
  timeoutSeconds?: number
  /** The executable to run (default dist/ezio), e.g. a copy that a rebuild cannot replace mid-run. */
  ezio?: string
  /** More for ezio serve, e.g. --used-blocks --compress. */
  serveArgs?: string[]
  log?: (line: string) => void
}

/**
 * One deployment on namespace machines: `ezio serve` on SERVER, `ezio boot`
 * on every machine into its own file, then each target checked against the
 * image.
 */
export async function runRoom (net: Network, server: Host, machines: Host[], opts: RoomOptions): Promise<RoomOutcome> {
  const log = opts.log ?? (() => {})
  const image = await fs.stat(opts.image)
  const state = path.join(opts.dir, 'serve-state')
  const ezio = opts.ezio ?? ezioBin
  const serve = net.exec(server, ezio, ['serve', opts.image, '--port', '8080', '--bt-port', '6881', '--state', state,
    '--accept-all', '--seed-ratio', String(opts.seedRatio ?? 3), '--seed-idle', String(opts.seedIdle ?? 30), ...(opts.serveArgs ?? [])], { all: true, buffer: true })
  const url = `http://${server.ip}:8080`
  try {
    await until(async () => (await get(net, server, `${url}/ezio.json`)) !== undefined, 900, 'ezio serve to answer')
    log(`ezio serve is up at ${url}`)
    const targets = await Promise.all(machines.map(async m => {
      const file = path.join(opts.dir, `${m.name}.disk`)
      await fs.rm(file, { force: true })
      const fh = await fs.open(file, 'w')
      await fh.truncate(image.size)
      await fh.close()
      return file
    }))
    const started = Date.now()
    // Debian's time(1) says what each machine's process cost, to its exit.
    const timings = machines.map(m => path.join(opts.dir, `${m.name}.time`))
    const boots: ResultPromise[] = machines.map((m, i) => net.exec(m, '/usr/bin/time', ['-f', '%U %S', '-o', timings[i]!, ezio, 'boot', url, '--target', targets[i]!, '--id', m.name, '--countdown', '0'],
      { all: true, buffer: true, timeout: (opts.timeoutSeconds ?? 1800) * 1000 }))
    const results = await Promise.all(boots)
    const serverCpuSeconds = await cpuSecondsOf(serve.pid)
    const listed = JSON.parse(await get(net, server, `${url}/api/machines`) ?? '[]') as Machine[]
    const seeder = JSON.parse(await get(net, server, `${url}/api/room`) ?? '{}') as { seeder?: { uploaded: number } }
    const want = await sha256(opts.image)
    const outcomes: MachineOutcome[] = []
    for (const [i, m] of machines.entries()) {
      const rec = listed.find(x => x.id === m.name)
      const r = results[i]!
      outcomes.push({
        name: m.name,
        seconds: rec?.doneAt ? (rec.doneAt - started) / 1000 : null,
        startS: rec?.startedAt ? (rec.startedAt - started) / 1000 : null,
        fromSeeder: rec?.fromSeeder ?? 0,
        fromPeers: rec?.fromPeers ?? 0,
        uploaded: rec?.uploaded ?? 0,
        cpuSeconds: await timedCpu(timings[i]!),
        verified: r.exitCode === 0 && await sha256(targets[i]!) === want,
        exitCode: r.exitCode,
        error: r.exitCode === 0 ? null : String(r.all ?? '').trim().split('\n').at(-1) ?? 'failed'
      })
    }
    const times = outcomes.map(o => o.seconds)
    return {
      machines: outcomes,
      seconds: times.every(s => s !== null) ? Math.max(...(times as number[])) : null,
      seederUploaded: seeder.seeder?.uploaded ?? 0,
      serverCpuSeconds,
      started
    }
  } finally {
    serve.kill('SIGTERM')
    await serve
  }
}

/** User and system CPU seconds of a running process (ip netns exec execs it: the pid is ezio's). */
async function cpuSecondsOf (pid: number | undefined): Promise<number | null> {
  const stat = pid ? await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '') : ''
  // Fields 14 and 15 (utime, stime), after the parenthesised command name.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return fields.length > 13 ? (Number(fields[11]) + Number(fields[12])) / 100 : null
}

/** What time(1) wrote: user and system seconds. */
async function timedCpu (file: string): Promise<number | null> {
  const last = (await fs.readFile(file, 'utf8').catch(() => '')).trim().split('\n').pop() ?? ''
  const [user, sys] = last.split(' ').map(Number)
  return Number.isFinite(user) && Number.isFinite(sys) ? user! + sys! : null
}

/** GET URL from inside HOST's namespace (the root namespace cannot reach the lab). */
export async function get (net: Network, host: Host, url: string): Promise<string | undefined> {
  const r = await net.exec(host, 'curl', ['-sf', '--max-time', '5', url])
  return r.exitCode === 0 ? String(r.stdout) : undefined
}

export async function until (probe: () => Promise<boolean>, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000
  while (!await probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 300))
  }
}

export async function sha256 (file: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer)
  return h.digest('hex')
}
