import { promises as fs } from 'node:fs'
import path from 'node:path'
import { appendCsv, readCsv, writeCsv, type Record } from './csv.ts'
import type { Case, Method } from './options.ts'

/** What identifies one measurement: a finished one is not run again. */
export interface RowKey {
  case: Case
  n: number
  method: Method | 'bound'
  repeat: number
  sizeBytes: number
  rateBps: number
  /** The slow machine's link, 0 when every link is even. */
  slowRateBps: number
}

export interface Row extends RowKey {
  /** Until the last machine was done; null when one failed. */
  lastS: number | null
  /** The last machine on a normal link (the same as lastS when links are even). */
  lastFastS: number | null
  /** The machine on the slow link; null when links are even. */
  slowS: number | null
  /** S/B, and S over the slow link. */
  boundS: number
  slowBoundS: number | null
  verified: number
  machines: number
  /** Host CPU busy % during the transfer (mean, busiest second), and over 3 s before it. */
  cpuMean: number | null
  cpuPeak: number | null
  cpuBefore: number | null
  /** CPU the lab's own processes used, as a share of every core over the transfer's time. */
  cpuOwn: number | null
  /** ezio only: CPU seconds per GB moved, of the server and of the median machine (see cpuPerGB). */
  serverCpuPerGB: number | null
  machineCpuPerGB: number | null
  /** ezio only: what its seeder uploaded, and what the machines got from it and from each other. */
  seederUploaded: number | null
  fromSeeder: number | null
  fromPeers: number | null
  /** ezio only: the most one machine received, in images. */
  maxReceived: number | null
  error: string
  finishedAt: string
}

export interface MachineRow extends RowKey {
  machine: string
  slow: boolean
  seconds: number | null
  /** ezio: from the start until the server saw its clone start. */
  startS: number | null
  verified: boolean
  fromSeeder: number | null
  fromPeers: number | null
  error: string
}

type Kind = 'text' | 'number' | 'bool'
type Columns<T> = Array<[keyof T, string, Kind?]>

const rowColumns: Columns<Row> = [
  ['case', 'case', 'text'], ['n', 'n'], ['method', 'method', 'text'], ['repeat', 'repeat'], ['sizeBytes', 'size_bytes'], ['rateBps', 'rate_bps'],
  ['slowRateBps', 'slow_rate_bps'], ['lastS', 'last_s'], ['lastFastS', 'last_fast_s'], ['slowS', 'slow_s'], ['boundS', 'bound_s'],
  ['slowBoundS', 'slow_bound_s'], ['verified', 'verified'], ['machines', 'machines'], ['cpuMean', 'cpu_mean_pct'],
  ['cpuPeak', 'cpu_peak_pct'], ['cpuBefore', 'cpu_before_pct'], ['cpuOwn', 'cpu_own_pct'], ['serverCpuPerGB', 'server_cpu_s_per_gb'],
  ['machineCpuPerGB', 'machine_cpu_s_per_gb'], ['seederUploaded', 'seeder_uploaded'], ['fromSeeder', 'from_seeder'],
  ['fromPeers', 'from_peers'], ['maxReceived', 'max_received'], ['error', 'error', 'text'], ['finishedAt', 'finished_at', 'text']
]
const machineColumns: Columns<MachineRow> = [
  ['case', 'case', 'text'], ['n', 'n'], ['method', 'method', 'text'], ['repeat', 'repeat'], ['sizeBytes', 'size_bytes'], ['rateBps', 'rate_bps'],
  ['slowRateBps', 'slow_rate_bps'], ['machine', 'machine', 'text'], ['slow', 'slow', 'bool'], ['seconds', 'seconds'], ['startS', 'start_s'],
  ['verified', 'verified', 'bool'], ['fromSeeder', 'from_seeder'], ['fromPeers', 'from_peers'], ['error', 'error', 'text']
]

/**
 * bench/results/lab.csv (one row per measurement) and lab-machines.csv (one
 * per machine of each), appended as each measurement ends so that an
 * interrupted run resumes where it stopped.
 */
export class ResultStore {
  rows: Row[] = []
  readonly file: string
  readonly machinesFile: string

  constructor (dir: string) {
    this.file = path.join(dir, 'lab.csv')
    this.machinesFile = path.join(dir, 'lab-machines.csv')
  }

  /** Loads what earlier runs finished; FRESH (or a file of another format) starts over. Returns a note for the user. */
  async load (fresh: boolean): Promise<string> {
    await fs.mkdir(path.dirname(this.file), { recursive: true })
    const header = rowColumns.map(c => c[1])
    const mHeader = machineColumns.map(c => c[1])
    const main = await readCsv(this.file)
    let note: string
    if (fresh || main.header.join() !== header.join()) {
      if (main.header.length) await fs.rename(this.file, `${this.file}.old`)
      note = main.header.length ? `starting over (the previous results are in ${this.file}.old)` : 'no earlier results'
      await writeCsv(this.file, header, [])
      await writeCsv(this.machinesFile, mHeader, [])
      this.rows = []
      return note
    }
    this.rows = main.records.map(r => fromRecord<Row>(r, rowColumns))
    // Machine rows written just before an interruption, without their row, would be counted twice.
    const kept = (await readCsv(this.machinesFile)).records.filter(r => this.rows.some(row => sameKey(row, fromRecord<MachineRow>(r, machineColumns))))
    await writeCsv(this.machinesFile, mHeader, kept)
    return `resuming: ${this.rows.length} finished rows in ${this.file}`
  }

  has (key: RowKey): boolean {
    return this.rows.some(r => sameKey(r, key))
  }

  async add (row: Row, machines: MachineRow[]): Promise<void> {
    if (machines.length) await appendCsv(this.machinesFile, machineColumns.map(c => c[1]), machines.map(m => toRecord(m, machineColumns)))
    await appendCsv(this.file, rowColumns.map(c => c[1]), [toRecord(row, rowColumns)])
    this.rows.push(row)
  }
}

export function sameKey (a: RowKey, b: RowKey): boolean {
  return a.case === b.case && a.n === b.n && a.method === b.method && a.repeat === b.repeat &&
    a.sizeBytes === b.sizeBytes && a.rateBps === b.rateBps && a.slowRateBps === b.slowRateBps
}

function toRecord<T> (v: T, columns: Columns<T>): Record {
  const out: Record = {}
  for (const [k, col] of columns) {
    const x = v[k] as unknown
    out[col] = x === null || x === undefined ? '' : typeof x === 'number' ? String(Math.round(x * 1000) / 1000) : typeof x === 'boolean' ? (x ? '1' : '0') : String(x)
  }
  return out
}

function fromRecord<T> (r: Record, columns: Columns<T>): T {
  const out: { [k: string]: string | number | boolean | null } = {}
  for (const [k, col, kind = 'number'] of columns) {
    const s = r[col] ?? ''
    out[String(k)] = kind === 'text' ? s : kind === 'bool' ? s === '1' : s === '' ? null : Number(s)
  }
  return out as T
}
