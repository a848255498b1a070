import { promises as fs } from 'node:fs'
import path from 'node:path'
import os from 'node:os'
import { childrenCpuSeconds, CpuSampler, cpuBusyOver } from '../../lab/cpu.ts'
import { runMulticast } from '../../lab/multicast.ts'
import { Network, type Host } from '../../lab/netns.ts'
import { runRoom } from '../../lab/room.ts'
import { runUnicast } from '../../lab/unicast.ts'
import { release, tracked } from './cleanup.ts'
import { slowRate, type BenchOptions } from './options.ts'
import type { MachineRow, Row, RowKey } from './results.ts'

/** What one run of a method gives, whichever the method. */
interface Outcome {
  started: number
  machines: Array<{ name: string, seconds: number | null, startS?: number | null, verified: boolean, error: string | null, fromSeeder?: number, fromPeers?: number, uploaded?: number, cpuSeconds?: number | null }>
  seederUploaded?: number
  serverCpuSeconds?: number | null
}

/** S/B: each machine must receive the image over its own link. */
export function boundSeconds (o: BenchOptions): number {
  return o.sizeBytes * 8 / o.rateBps
}

/** The physical bound as a row, computed rather than measured. */
export function boundRow (key: RowKey, o: BenchOptions): Row {
  const bound = boundSeconds(o)
  const slow = key.case === 'slow' ? bound * o.slowFactor : null
  return {
    ...key, lastS: slow ?? bound, lastFastS: bound, slowS: slow, boundS: bound, slowBoundS: slow, verified: key.n, machines: key.n,
    cpuMean: null, cpuPeak: null, cpuBefore: null, cpuOwn: null, serverCpuPerGB: null, machineCpuPerGB: null, seederUploaded: null, fromSeeder: null, fromPeers: null, maxReceived: null,
    error: '', finishedAt: new Date().toISOString()
  }
}

/**
 * One measurement on a fresh network: a server and N machines on links of
 * the bench's rate (the last one slower in the slow case), the method run,
 * every copy checked, the host's CPU sampled throughout.
 */
export async function measure (key: RowKey, o: BenchOptions, files: { image: string, ezio: string }, work: string, log: (line: string) => void): Promise<{ row: Row, machines: MachineRow[] }> {
  if (key.method === 'bound') return { row: boundRow(key, o), machines: [] }
  const cpuBefore = await cpuBusyOver(3)
  const dir = await fs.mkdtemp(path.join(work, `${key.method}-${key.case}-${key.n}-`))
  const slowIndex = key.case === 'slow' ? key.n - 1 : -1
  const bound = boundSeconds(o)
  const timeoutSeconds = Math.ceil(3 * Math.max(key.n, key.case === 'slow' ? o.slowFactor : 1) * bound + 300)
  const net = tracked(await Network.create())
  const cpu = new CpuSampler()
  let outcome: Outcome
  let ownCpu = 0
  try {
    const server = await net.addHost('srv', 1, o.rate)
    const machines: Host[] = []
    for (let i = 0; i < key.n; i++) {
      machines.push(await net.addHost(`m${String(i + 1).padStart(2, '0')}`, 11 + i, i === slowIndex ? slowRate(o) : o.rate))
    }
    await cpu.start()
    ownCpu = -await childrenCpuSeconds()
    const opts = { image: files.image, ezio: files.ezio, dir, timeoutSeconds, log }
    if (key.method === 'ezio') outcome = await runRoom(net, server, machines, opts)
    else if (key.method === 'unicast') outcome = await runUnicast(net, server, machines, opts)
    else outcome = await runMulticast(net, server, machines, opts)
    ownCpu += await childrenCpuSeconds()
  } finally {
    await cpu.stop()
    await release(net)
    await fs.rm(dir, { recursive: true, force: true })
  }

  const times = outcome.machines.map(m => m.seconds)
  const all = (xs: Array<number | null>): number | null => xs.length && xs.every(x => x !== null) ? Math.max(...(xs as number[])) : null
  const lastS = all(times)
  const use = cpu.use(outcome.started, lastS === null ? Infinity : outcome.started + lastS * 1000)
  const sum = (f: (m: Outcome['machines'][number]) => number | undefined): number | null => key.method === 'ezio' ? outcome.machines.reduce((s, m) => s + (f(m) ?? 0), 0) : null
  const row: Row = {
    ...key,
    lastS,
    lastFastS: all(times.filter((_, i) => i !== slowIndex)),
    slowS: slowIndex >= 0 ? times[slowIndex] ?? null : null,
    boundS: bound,
    slowBoundS: slowIndex >= 0 ? bound * o.slowFactor : null,
    verified: outcome.machines.filter(m => m.verified).length,
    machines: key.n,
    cpuMean: use.mean,
    cpuPeak: use.peak,
    cpuBefore,
    cpuOwn: lastS ? 100 * ownCpu / (lastS * os.cpus().length) : null,
    ...cpuPerGB(outcome),
    seederUploaded: outcome.seederUploaded ?? null,
    fromSeeder: sum(m => m.fromSeeder),
    fromPeers: sum(m => m.fromPeers),
    maxReceived: key.method === 'ezio' ? Math.max(...outcome.machines.map(m => ((m.fromSeeder ?? 0) + (m.fromPeers ?? 0)) / o.sizeBytes)) : null,
    error: outcome.machines.find(m => m.error || !m.verified)?.error ?? (outcome.machines.every(m => m.verified) ? '' : 'a copy differs from the image'),
    finishedAt: new Date().toISOString()
  }
  const machineRows: MachineRow[] = outcome.machines.map((m, i) => ({
    ...key,
    machine: m.name,
    slow: i === slowIndex,
    seconds: m.seconds,
    startS: m.startS ?? null,
    verified: m.verified,
    fromSeeder: m.fromSeeder ?? null,
    fromPeers: m.fromPeers ?? null,
    error: m.error ?? ''
  }))
  return { row, machines: machineRows }
}

/**
 * CPU seconds per GB (1e9 bytes) that crossed a process's links, either
 * way: the server's over what it sent, a machine's (the median machine) over
 * what it received and sent. ezio only; time(1) and /proc tell the seconds.
 */
function cpuPerGB (outcome: Outcome): { serverCpuPerGB: number | null, machineCpuPerGB: number | null } {
  const server = outcome.serverCpuSeconds && outcome.seederUploaded ? outcome.serverCpuSeconds / (outcome.seederUploaded / 1e9) : null
  const perMachine = outcome.machines
    .map(m => m.cpuSeconds && ((m.fromSeeder ?? 0) + (m.fromPeers ?? 0) + (m.uploaded ?? 0)) ? m.cpuSeconds / (((m.fromSeeder ?? 0) + (m.fromPeers ?? 0) + (m.uploaded ?? 0)) / 1e9) : null)
    .filter((x): x is number => x !== null)
    .sort((a, b) => a - b)
  return { serverCpuPerGB: server, machineCpuPerGB: perMachine.length ? perMachine[Math.floor(perMachine.length / 2)]! : null }
}
