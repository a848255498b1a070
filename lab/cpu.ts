import { promises as fs } from 'node:fs'

export interface CpuUse {
  /** Busy share of all cores over the window, 0-100. */
  mean: number
  /** The busiest sampling interval in the window, 0-100. */
  peak: number
}

interface Tick { at: number, busy: number, total: number }

/**
 * Samples /proc/stat (the whole host: every core, every process, ours or
 * not) so that a benchmark can tell a CPU-bound figure from a network one.
 */
export class CpuSampler {
  private readonly ticks: Tick[] = []
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly intervalMs = 1000) {}

  async start (): Promise<void> {
    this.ticks.push(await readTick())
    this.timer = setInterval(() => { void readTick().then(t => this.ticks.push(t), () => {}) }, this.intervalMs)
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    this.ticks.push(await readTick())
  }

  /** Use between two instants (ms since epoch); the whole run without them. */
  use (from = 0, to = Infinity): CpuUse {
    const inside = this.ticks.filter(t => t.at >= from - this.intervalMs && t.at <= to + this.intervalMs)
    if (inside.length < 2) return { mean: 0, peak: 0 }
    const share = (a: Tick, b: Tick): number => b.total > a.total ? 100 * (b.busy - a.busy) / (b.total - a.total) : 0
    let peak = 0
    for (let i = 1; i < inside.length; i++) peak = Math.max(peak, share(inside[i - 1]!, inside[i]!))
    return { mean: share(inside[0]!, inside.at(-1)!), peak }
  }
}

/** Busy share of the host over SECONDS, e.g. to see what others run before a measurement. */
export async function cpuBusyOver (seconds: number): Promise<number> {
  const s = new CpuSampler(seconds * 1000)
  await s.start()
  await new Promise(resolve => setTimeout(resolve, seconds * 1000))
  await s.stop()
  return s.use().mean
}

async function readTick (): Promise<Tick> {
  const line = (await fs.readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!
  // cpu user nice system idle iowait irq softirq steal ...; idle and iowait are not busy.
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number)
  const total = f.reduce((a, b) => a + b, 0)
  return { at: Date.now(), busy: total - f[3]! - f[4]!, total }
}

/**
 * CPU seconds used by this process's children that have ended and been
 * waited for (and by their own waited-for children): the lab's processes,
 * apart from whatever else shares the host.
 */
export async function childrenCpuSeconds (): Promise<number> {
  const stat = await fs.readFile('/proc/self/stat', 'utf8')
  // Fields after the command name, which may hold spaces: state is field 3, cutime 16, cstime 17.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number)
  return (f[13]! + f[14]!) / clockTicks
}

// USER_HZ: 100 on every Linux architecture that ezio targets.
const clockTicks = 100
