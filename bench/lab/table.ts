import { methods, slowRate, type BenchOptions, type Method } from './options.ts'
import { boundSeconds } from './measure.ts'
import type { Row } from './results.ts'
import { summarize, type Cell } from './summary.ts'

/** Mean host CPU busy share at or above which a time may be the CPU's, not the network's. */
export const cpuBoundPct = 85

const MiB = 1024 * 1024

/** The terminal tables: even links, then one slow link, then the targets read off them. */
export function renderTables (rows: Row[], o: BenchOptions): string {
  const cell = summarize(rows, o)
  const bound = boundSeconds(o)
  const out: string[] = []
  const cpuMarks: string[] = []
  const cpu = (c: Cell | undefined, m: Method, n: number, what: string): string => {
    if (!c || c.cpuMean === null) return '-'
    if (c.cpuMean >= cpuBoundPct) cpuMarks.push(`${m} ${what} N=${n}`)
    return `${c.cpuMean.toFixed(0)}/${(c.cpuPeak ?? 0).toFixed(0)} (${c.cpuOwn?.toFixed(0) ?? '-'})${c.cpuMean >= cpuBoundPct ? '*' : ''}`
  }
  const secs = (x: number | null | undefined, c?: Cell): string => c && c.failed && x === null ? 'FAILED' : x === null || x === undefined ? '-' : x.toFixed(1)
  const ratio = (x: number | null | undefined, ref: number): string => x === null || x === undefined ? '-' : `${(x / ref).toFixed(2)}x`
  const swarm = (c: Cell | undefined, n: number): string[] => {
    if (!c || c.seederUploaded === null) return ['-', '-', '-', '-', '-']
    const got = (c.fromSeeder ?? 0) + (c.fromPeers ?? 0)
    const images = c.seederUploaded / o.sizeBytes
    const perGB = (x: number | null): string => x === null ? '-' : x.toFixed(1)
    return [`${images.toFixed(2)} S`, got ? `${(100 * (c.fromPeers ?? 0) / got).toFixed(0)}%` : '-', (images / n).toFixed(2),
      c.maxReceived === null ? '-' : `${c.maxReceived.toFixed(3)} S`, `${perGB(c.serverCpuPerGB)} / ${perGB(c.machineCpuPerGB)}`]
  }
  const swarmHeader = ['ezio: seeder sent', 'from peers', 'seeder sent / N', 'most received', 'CPU s/GB srv / machine']
  const failures: string[] = []
  const noteFailure = (c: Cell | undefined, what: string): void => { if (c?.failed) failures.push(`${what}: ${c.failed} of ${c.runs} runs failed: ${c.error}`) }

  if (o.cases.includes('even')) {
    out.push(`Even links: the server and every machine on ${mbit(o.rateBps)}; image ${(o.sizeBytes / MiB).toFixed(0)} MiB; bound S/B = ${bound.toFixed(1)} s`)
    out.push(table(
      ['N', 'S/B s', 'N*S/B s', ...o.methods.flatMap(m => [`${m} s`, 'x S/B', 'cpu% (own)']), ...(o.methods.includes('ezio') ? swarmHeader : [])],
      o.counts.map(n => {
        const cols = [String(n), bound.toFixed(1), (n * bound).toFixed(1)]
        for (const m of o.methods) {
          const c = cell('even', n, m)
          noteFailure(c, `${m}, even links, N=${n}`)
          cols.push(secs(c?.lastS, c), ratio(c?.lastS, bound), cpu(c, m, n, 'even'))
        }
        if (o.methods.includes('ezio')) cols.push(...swarm(cell('even', n, 'ezio'), n))
        return cols
      })
    ))
  }
  const slowCounts = o.counts.filter(n => n >= 2)
  if (o.cases.includes('slow') && slowCounts.length) {
    const slowBound = bound * o.slowFactor
    out.push('')
    out.push(`One slow link: the last machine on ${mbit(o.rateBps / o.slowFactor)} (${o.slowFactor}x slower, tc rate ${slowRate(o)}, bound ${slowBound.toFixed(1)} s), the others on ${mbit(o.rateBps)} (bound ${bound.toFixed(1)} s); seconds until the last fast machine and the slow one were done`)
    out.push(table(
      ['N', ...o.methods.flatMap(m => [`${m} fast`, 'slow', 'cpu% (own)']), ...(o.methods.includes('ezio') ? swarmHeader : [])],
      slowCounts.map(n => {
        const cols = [String(n)]
        for (const m of o.methods) {
          const c = cell('slow', n, m)
          noteFailure(c, `${m}, one slow link, N=${n}`)
          cols.push(secs(c?.lastFastS, c), secs(c?.slowS, c), cpu(c, m, n, 'slow'))
        }
        if (o.methods.includes('ezio')) cols.push(...swarm(cell('slow', n, 'ezio'), n))
        return cols
      })
    ))
  }
  out.push('')
  out.push(`cpu% = the host's busy share of both cores during the transfer, mean/busiest second, from /proc/stat (every process on the host, ours or not);`)
  out.push(`(own) = CPU time of the lab's own processes (servers and clients, kernel time in their context) over the transfer's time, as a share of both cores.`)
  out.push(cpuMarks.length
    ? `* the host was at least ${cpuBoundPct}% busy on average: there the CPU, not the network, may have set the time (${cpuMarks.join('; ')}).`
    : `No run had the host at ${cpuBoundPct}% busy on average: the times are the network's, not the CPU's.`)
  const before = Math.max(0, ...o.counts.flatMap(n => o.cases.flatMap(c => o.methods.map(m => cell(c, n, m)?.cpuBefore ?? 0))))
  if (before >= 10) out.push(`Note: something else kept the host up to ${before.toFixed(0)}% busy just before a run (other work on this machine).`)
  if (o.methods.includes('ezio')) {
    out.push('ezio: seeder sent = bytes the server uploaded, in images; from peers = share of the machines\' bytes that came from other machines; seeder sent / N: 1.00 means every machine got everything from the server (no swarming), 1/N the ideal.')
    out.push('most received = the machine that received the most, in images (1.000: no byte twice); CPU s/GB = CPU seconds (user + system) per 1e9 bytes moved: the server\'s over what it sent, the median machine\'s over what it received and sent.')
  }
  out.push(...failures.map(f => `FAILED ${f}`))
  out.push(...targets(cell, o))
  return out.join('\n')
}

/** The goals, read off the largest N. */
function targets (cell: ReturnType<typeof summarize>, o: BenchOptions): string[] {
  const bound = boundSeconds(o)
  const n = Math.max(...o.counts)
  const lines = ['', `Targets (the room-speed issue) at the largest N = ${n}:`]
  const ezio = cell('even', n, 'ezio')
  const met = (ok: boolean): string => ok ? 'met' : 'NOT met'
  if (ezio?.lastS) {
    lines.push(`  ezio within 1.3 x S/B: ${ezio.lastS.toFixed(1)} s = ${(ezio.lastS / bound).toFixed(2)} x S/B (host CPU ${ezio.cpuMedian?.toFixed(0) ?? '-'}%) -> ${met(ezio.lastS <= 1.3 * bound)}`)
    if (ezio.seederUploaded !== null) lines.push(`  the server sends at most 1.05 S: ${(ezio.seederUploaded / o.sizeBytes).toFixed(2)} S -> ${met(ezio.seederUploaded <= 1.05 * o.sizeBytes)}`)
    if (ezio.maxReceived !== null) lines.push(`  no machine receives more than 1.03 S: at most ${ezio.maxReceived.toFixed(3)} S -> ${met(ezio.maxReceived <= 1.03)}`)
    if (ezio.cpuMedian !== null) lines.push(`  host CPU at most 60 % (median run): ${ezio.cpuMedian.toFixed(0)} % -> ${met(ezio.cpuMedian <= 60)}`)
  }
  const uni = cell('even', n, 'unicast')
  if (uni?.lastS) lines.push(`  unicast near N x S/B: ${uni.lastS.toFixed(1)} s = ${(uni.lastS / (n * bound)).toFixed(2)} x N*S/B (${(n * bound).toFixed(1)} s)`)
  const se = cell('slow', n, 'ezio')
  const sm = cell('slow', n, 'multicast')
  if (n >= 2 && se?.lastFastS && sm?.lastS) {
    lines.push(`  one slow link, fast machines done well before multicast's room: ezio ${se.lastFastS.toFixed(1)} s vs multicast ${sm.lastS.toFixed(1)} s (${(sm.lastS / se.lastFastS).toFixed(1)}x sooner) -> ${se.lastFastS < 0.5 * sm.lastS ? 'met' : 'NOT met'}`)
    if (se.slowS) lines.push(`  the slow machine no later than with multicast: ezio ${se.slowS.toFixed(1)} s vs multicast ${sm.slowS?.toFixed(1)} s (its bound ${(bound * o.slowFactor).toFixed(1)} s) -> ${sm.slowS !== null && se.slowS <= sm.slowS ? 'met' : 'NOT met'}`)
  }
  return lines.length > 2 ? lines : []
}

function mbit (bps: number): string {
  return `${Number((bps / 1e6).toPrecision(3))} Mbit/s (${Number((bps / 8e6).toPrecision(3))} MB/s)`
}

function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cols: string[]): string => '  ' + cols.map((c, i) => c.padStart(widths[i]!)).join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}
