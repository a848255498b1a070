import path from 'node:path'
import { parseArgs } from 'node:util'
import { parseRate } from '../../lab/netns.ts'

export const methods = ['ezio', 'unicast', 'multicast'] as const
export type Method = typeof methods[number]
export const cases = ['even', 'slow'] as const
export type Case = typeof cases[number]

export interface BenchOptions {
  counts: number[]
  /** tc rate of every link, e.g. 15mbit, and the same in bits per second. */
  rate: string
  rateBps: number
  sizeBytes: number
  repeats: number
  /** The slow machine's link is this many times slower. */
  slowFactor: number
  methods: Method[]
  cases: Case[]
  outDir: string
  fresh: boolean
}

export const usage = `Usage: bench/lab/run [--n 1,2,4,8,16,32] [--rate 15mbit] [--size-mib 128]
         [--repeats 1] [--slow-factor 5] [--methods ezio,unicast,multicast]
         [--cases even,slow] [--out bench/results] [--fresh]
(or the environment: N_LIST, RATE, SIZE_MIB, REPEATS, SLOW_FACTOR, METHODS,
CASES, OUT, FRESH=1). Needs root; run make build first (make bench-lab does).`

/** Flags win over the environment, which wins over the defaults. */
export function parseOptions (argv: string[], env: NodeJS.ProcessEnv, root: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string' },
      rate: { type: 'string' },
      'size-mib': { type: 'string' },
      repeats: { type: 'string' },
      'slow-factor': { type: 'string' },
      methods: { type: 'string' },
      cases: { type: 'string' },
      out: { type: 'string' },
      fresh: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) throw new UsageHelp()
  const counts = list(values.n ?? env.N_LIST ?? '1,2,4,8,16,32').map(s => positiveInt('--n', s))
  if (Math.max(...counts) > 200) throw new Error(`--n ${Math.max(...counts)}: the lab's subnet holds at most 200 machines`)
  const rate = values.rate ?? env.RATE ?? '15mbit'
  const rateBps = parseRate(rate)
  const sizeMiB = Number(values['size-mib'] ?? env.SIZE_MIB ?? 128)
  if (!(sizeMiB > 0)) throw new Error(`--size-mib ${sizeMiB} is not a positive number of MiB`)
  return {
    counts: [...new Set(counts)].sort((a, b) => a - b),
    rate,
    rateBps,
    sizeBytes: Math.round(sizeMiB * 1024 * 1024),
    repeats: positiveInt('--repeats', values.repeats ?? env.REPEATS ?? '1'),
    slowFactor: positiveNumber('--slow-factor', values['slow-factor'] ?? env.SLOW_FACTOR ?? '5'),
    methods: oneOf('--methods', list(values.methods ?? env.METHODS ?? methods.join(',')), methods),
    cases: oneOf('--cases', list(values.cases ?? env.CASES ?? cases.join(',')), cases),
    outDir: path.resolve(root, values.out ?? env.OUT ?? 'bench/results'),
    fresh: values.fresh ?? env.FRESH === '1'
  }
}

/** The slow machine's tc rate: RATE divided by the slow factor, in kbit. */
export function slowRate (o: BenchOptions): string {
  return `${Math.round(o.rateBps / o.slowFactor / 1000)}kbit`
}

export class UsageHelp extends Error {}

function list (s: string): string[] {
  return s.split(',').map(x => x.trim()).filter(Boolean)
}

function positiveInt (flag: string, s: string): number {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} ${s} is not a whole number of at least 1`)
  return n
}

function positiveNumber (flag: string, s: string): number {
  const n = Number(s)
  if (!(n > 0)) throw new Error(`${flag} ${s} is not a positive number`)
  return n
}

function oneOf<T extends string> (flag: string, got: string[], allowed: readonly T[]): T[] {
  for (const g of got) if (!allowed.includes(g as T)) throw new Error(`${flag}: ${g} is not one of ${allowed.join(', ')}`)
  return allowed.filter(a => got.includes(a))
}
