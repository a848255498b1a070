import type { BenchOptions, Method } from './options.ts'
import { boundSeconds } from './measure.ts'
import type { Row } from './results.ts'
import { summarize } from './summary.ts'

const colors: { [m in Method]: string } = { ezio: '#1f6fb4', unicast: '#d62728', multicast: '#2ca02c' }

interface Series { label: string, color: string, dash?: string, marker: boolean, points: Array<[number, number]> }

const W = 500
const H = 400
const M = { left: 62, right: 16, top: 40, bottom: 118 }

/**
 * The SVG plot: time until done against N, one panel for even links and
 * one with a slow link, log scales, the physical bound drawn.
 */
export function renderPlot (rows: Row[], o: BenchOptions): string {
  const cell = summarize(rows, o)
  const bound = boundSeconds(o)
  const panels: string[] = []
  if (o.cases.includes('even')) {
    const series: Series[] = o.methods.map(m => ({
      label: m, color: colors[m], marker: true,
      points: o.counts.flatMap(n => { const t = cell('even', n, m)?.lastS; return t ? [[n, t] as [number, number]] : [] })
    }))
    series.push({ label: 'bound S/B', color: '#000', dash: '6 4', marker: false, points: o.counts.map(n => [n, bound]) })
    series.push({ label: '1.3 x S/B (ezio target)', color: '#1f6fb4', dash: '2 3', marker: false, points: o.counts.map(n => [n, 1.3 * bound]) })
    series.push({ label: 'N x S/B (one server link)', color: '#999', dash: '2 3', marker: false, points: o.counts.map(n => [n, n * bound]) })
    panels.push(panel(`Every link ${mbitText(o.rateBps)}`, o.counts, series))
  }
  const slowCounts = o.counts.filter(n => n >= 2)
  if (o.cases.includes('slow') && slowCounts.length) {
    const series: Series[] = o.methods.flatMap(m => [
      { label: `${m}: last fast machine`, color: colors[m], marker: true, points: slowCounts.flatMap(n => { const t = cell('slow', n, m)?.lastFastS; return t ? [[n, t] as [number, number]] : [] }) },
      { label: `${m}: slow machine`, color: colors[m], dash: '7 3', marker: true, points: slowCounts.flatMap(n => { const t = cell('slow', n, m)?.slowS; return t ? [[n, t] as [number, number]] : [] }) }
    ])
    series.push({ label: 'bound S/B', color: '#000', dash: '6 4', marker: false, points: slowCounts.map(n => [n, bound]) })
    series.push({ label: `slow link's bound ${o.slowFactor} x S/B`, color: '#666', dash: '6 4', marker: false, points: slowCounts.map(n => [n, o.slowFactor * bound]) })
    panels.push(panel(`One machine on a link ${o.slowFactor}x slower`, slowCounts, series))
  }
  const width = W * panels.length
  const title = `ezio, unicast, multicast: time until done against N machines`
  const subtitle = `${(o.sizeBytes / 1024 / 1024).toFixed(0)} MiB image, links ${mbitText(o.rateBps)}, log scales`
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 44}" viewBox="0 0 ${width} ${H + 44}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<text x="${width / 2}" y="37" text-anchor="middle" font-size="12" fill="#444">${esc(subtitle)}</text>`,
    ...panels.map((p, i) => `<g transform="translate(${i * W},44)">${p}</g>`),
    '</svg>'
  ].join('\n') + '\n'
}

function panel (title: string, counts: number[], series: Series[]): string {
  const pw = W - M.left - M.right
  const ph = H - M.top - M.bottom
  const ys = series.flatMap(s => s.points.map(p => p[1])).filter(y => y > 0)
  const lo = Math.log10(Math.min(...ys) / 1.3)
  const hi = Math.log10(Math.max(...ys) * 1.3)
  const lx = counts.map(Math.log2)
  const x0 = Math.min(...lx)
  const x1 = Math.max(...lx)
  const x = (n: number): number => M.left + (x1 === x0 ? pw / 2 : (Math.log2(n) - x0) / (x1 - x0) * pw)
  const y = (t: number): number => M.top + (hi - Math.log10(t)) / (hi - lo) * ph
  const out: string[] = [`<text x="${M.left + pw / 2}" y="${M.top - 14}" text-anchor="middle" font-size="13">${esc(title)}</text>`]
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`)
  for (const t of ticks(10 ** lo, 10 ** hi)) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e4e4e4"/>`)
    out.push(`<text x="${M.left - 5}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`)
  }
  for (const n of counts) {
    out.push(`<line x1="${x(n).toFixed(1)}" x2="${x(n).toFixed(1)}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`)
    out.push(`<text x="${x(n).toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle">${n}</text>`)
  }
  out.push(`<text x="${M.left + pw / 2}" y="${M.top + ph + 32}" text-anchor="middle">machines N</text>`)
  out.push(`<text transform="translate(16,${M.top + ph / 2}) rotate(-90)" text-anchor="middle">seconds until the last machine is done</text>`)
  for (const s of series) {
    if (!s.points.length) continue
    const d = s.points.map(([n, t], i) => `${i ? 'L' : 'M'}${x(n).toFixed(1)},${y(t).toFixed(1)}`).join(' ')
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.marker ? 2 : 1.3}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`)
    if (s.marker) for (const [n, t] of s.points) out.push(`<circle cx="${x(n).toFixed(1)}" cy="${y(t).toFixed(1)}" r="3.2" fill="${s.dash ? '#fff' : s.color}" stroke="${s.color}" stroke-width="1.5"/>`)
  }
  // The legend, two columns under the plot.
  series.forEach((s, i) => {
    const lxp = M.left + (i % 2) * (pw / 2)
    const lyp = M.top + ph + 50 + Math.floor(i / 2) * 16
    out.push(`<line x1="${lxp}" x2="${lxp + 24}" y1="${lyp - 4}" y2="${lyp - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`)
    out.push(`<text x="${lxp + 30}" y="${lyp}">${esc(s.label)}</text>`)
  })
  return out.join('\n')
}

/** 1-2-3-5 steps between LO and HI. */
function ticks (lo: number, hi: number): number[] {
  const out: number[] = []
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 3, 5]) {
      const t = m * 10 ** e
      if (t >= lo && t <= hi) out.push(Number(t.toPrecision(3)))
    }
  }
  return out
}

function mbitText (bps: number): string {
  return `${Number((bps / 1e6).toPrecision(3))} Mbit/s`
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
