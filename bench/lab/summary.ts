import { slowRate, type BenchOptions, type Case, type Method } from './options.ts'
import { parseRate } from '../../lab/netns.ts'
import type { Row } from './results.ts'

/** The repeats of one (case, N, method) folded: median times, worst CPU. */
export interface Cell {
  lastS: number | null
  lastFastS: number | null
  slowS: number | null
  cpuMean: number | null
  cpuPeak: number | null
  cpuBefore: number | null
  cpuOwn: number | null
  /** The median run's mean host CPU (cpuMean is the worst run's). */
  cpuMedian: number | null
  serverCpuPerGB: number | null
  machineCpuPerGB: number | null
  seederUploaded: number | null
  fromSeeder: number | null
  fromPeers: number | null
  maxReceived: number | null
  runs: number
  failed: number
  error: string
}

/** Rows of this configuration (the CSV may hold others') folded by case, N and method. */
export function summarize (rows: Row[], o: BenchOptions): (c: Case, n: number, m: Method | 'bound') => Cell | undefined {
  const slowBps = parseRate(slowRate(o))
  const mine = rows.filter(r => r.sizeBytes === o.sizeBytes && r.rateBps === o.rateBps && r.slowRateBps === (r.case === 'slow' ? slowBps : 0))
  return (c, n, m) => {
    const runs = mine.filter(r => r.case === c && r.n === n && r.method === m)
    if (!runs.length) return undefined
    const ok = runs.filter(r => !r.error && r.lastS !== null)
    const failed = runs.filter(r => r.error || r.lastS === null)
    return {
      lastS: median(ok.map(r => r.lastS)),
      lastFastS: median(ok.map(r => r.lastFastS)),
      slowS: median(ok.map(r => r.slowS)),
      cpuMean: max(runs.map(r => r.cpuMean)),
      cpuPeak: max(runs.map(r => r.cpuPeak)),
      cpuBefore: max(runs.map(r => r.cpuBefore)),
      cpuOwn: max(runs.map(r => r.cpuOwn)),
      cpuMedian: median(ok.map(r => r.cpuMean)),
      serverCpuPerGB: median(ok.map(r => r.serverCpuPerGB)),
      machineCpuPerGB: median(ok.map(r => r.machineCpuPerGB)),
      seederUploaded: median(ok.map(r => r.seederUploaded)),
      fromSeeder: median(ok.map(r => r.fromSeeder)),
      fromPeers: median(ok.map(r => r.fromPeers)),
      maxReceived: median(ok.map(r => r.maxReceived)),
      runs: runs.length,
      failed: failed.length,
      error: failed[0]?.error ?? ''
    }
  }
}

export function median (xs: Array<number | null>): number | null {
  const s = xs.filter((x): x is number => x !== null).sort((a, b) => a - b)
  if (!s.length) return null
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

function max (xs: Array<number | null>): number | null {
  const s = xs.filter((x): x is number => x !== null)
  return s.length ? Math.max(...s) : null
}
