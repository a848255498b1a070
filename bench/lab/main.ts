// bench/lab: ezio against unicast HTTP, udpcast multicast and the physical
// bound S/B, on N namespace machines over shaped links, then the same with
// one machine on a slower link. See bench/lab/run and options.ts for knobs.
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ezioBin, root } from '../../lab/room.ts'
import { parseRate } from '../../lab/netns.ts'
import { randomImage } from '../../test/helpers/files.ts'
import { cleanupAll, cleanUpOnSignals, trackDir } from './cleanup.ts'
import { boundSeconds, measure } from './measure.ts'
import { parseOptions, slowRate, usage, UsageHelp, type BenchOptions, type Case, type Method } from './options.ts'
import { renderPlot } from './plot.ts'
import { ResultStore, sameKey, type RowKey } from './results.ts'
import { renderTables } from './table.ts'

const MiB = 1024 * 1024

function plan (o: BenchOptions): RowKey[] {
  const keys: RowKey[] = []
  const slowBps = parseRate(slowRate(o))
  for (const c of o.cases) {
    for (const n of o.counts) {
      if (c === 'slow' && n < 2) continue
      // Methods interleaved per N, so that a busy moment of the shared host does not hit one method only.
      for (let repeat = 1; repeat <= o.repeats; repeat++) {
        for (const method of ['bound', ...o.methods] as Array<Method | 'bound'>) {
          if (method === 'bound' && repeat > 1) continue
          keys.push({ case: c as Case, n, method, repeat, sizeBytes: o.sizeBytes, rateBps: o.rateBps, slowRateBps: c === 'slow' ? slowBps : 0 })
        }
      }
    }
  }
  return keys
}

async function preflight (): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/lab needs root (network namespaces, veth, tc): run it as root')
  await fs.access(ezioBin).catch(() => { throw new Error(`${ezioBin} is missing: run make build first (make bench-lab does)`) })
  for (const tool of ['udp-sender', 'udp-receiver', 'busybox', 'curl', 'tc', 'timeout']) {
    const found = await Promise.any((process.env.PATH ?? '').split(':').map(d => fs.access(path.join(d, tool)))).then(() => true, () => false)
    if (!found) throw new Error(`${tool} is not installed: run make deps (build/debian-packages.txt lists it)`)
  }
}

async function main (): Promise<number> {
  let o: BenchOptions
  try {
    o = parseOptions(process.argv.slice(2), process.env, root)
  } catch (err) {
    if (err instanceof UsageHelp) { console.log(usage); return 0 }
    console.error(`bench/lab: ${(err as Error).message}\n${usage}`)
    return 2
  }
  await preflight()
  cleanUpOnSignals()
  const store = new ResultStore(o.outDir)
  const note = await store.load(o.fresh)
  const keys = plan(o)
  const todo = keys.filter(k => !store.has(k))
  const bound = boundSeconds(o)
  console.log(`bench/lab: N = ${o.counts.join(', ')}; links ${o.rate} (slow one ${slowRate(o)}); image ${(o.sizeBytes / MiB).toFixed(0)} MiB; bound S/B ${bound.toFixed(1)} s; ` +
    `${o.repeats} repeat(s); ${os.cpus().length} cores; ${note}; ${todo.filter(k => k.method !== 'bound').length} measurements to go`)

  if (todo.length) {
    const work = trackDir(await fs.mkdtemp(path.join(os.tmpdir(), 'ezio-bench-lab-')))
    const image = await randomImage(path.join(work, 'image.raw'), o.sizeBytes)
    // Others may rebuild dist/ezio during a run of hours: every measurement runs this copy.
    const ezio = path.join(work, 'ezio')
    await fs.copyFile(ezioBin, ezio)
    await fs.chmod(ezio, 0o755)
    let i = 0
    for (const key of todo) {
      if (key.method !== 'bound') i++
      const what = `${key.method}, ${key.case === 'even' ? 'even links' : 'one slow link'}, N=${key.n}${o.repeats > 1 ? `, repeat ${key.repeat}` : ''}`
      const t0 = Date.now()
      const { row, machines } = await measure(key, o, { image, ezio }, work, line => process.stderr.write(`  ${line}\n`))
      await store.add(row, machines)
      if (key.method === 'bound') continue
      const times = key.case === 'slow' ? `last fast ${row.lastFastS?.toFixed(1) ?? '-'} s, slow ${row.slowS?.toFixed(1) ?? '-'} s` : `last ${row.lastS?.toFixed(1) ?? '-'} s (${row.lastS ? (row.lastS / bound).toFixed(2) : '-'} x S/B)`
      console.log(`[${i}/${todo.filter(k => k.method !== 'bound').length}] ${what}: ${times}; ${row.verified}/${row.machines} verified; cpu ${row.cpuMean?.toFixed(0)}% mean, ${row.cpuPeak?.toFixed(0)}% peak` +
        `${row.error ? `; FAILED: ${row.error}` : ''} (${((Date.now() - t0) / 1000).toFixed(0)} s in all)`)
    }
  }

  console.log('')
  console.log(renderTables(store.rows, o))
  const svg = path.join(o.outDir, 'lab.svg')
  await fs.writeFile(svg, renderPlot(store.rows, o))
  console.log(`\nCSV: ${store.file} (per machine: ${store.machinesFile}); plot: ${svg}`)
  return keys.some(k => store.rows.find(r => sameKey(r, k))?.error) ? 1 : 0
}

main().then(async code => {
  await cleanupAll()
  process.exit(code)
}, async (err: unknown) => {
  process.stderr.write(`bench/lab failed: ${(err as Error).message}\n`)
  await cleanupAll()
  process.exit(1)
})
