import t from 'tap'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { parseOptions } from '../../../bench/lab/options.ts'
import { boundRow } from '../../../bench/lab/measure.ts'
import { renderPlot } from '../../../bench/lab/plot.ts'
import { ResultStore, type MachineRow, type Row } from '../../../bench/lab/results.ts'
import { renderTables } from '../../../bench/lab/table.ts'
import { tempDir } from '../../helpers/files.ts'

const o = parseOptions(['--n', '1,2', '--size-mib', '1', '--rate', '8mbit'], {}, '/nonexistent')

function row (over: Partial<Row>): Row {
  return {
    ...boundRow({ case: 'even', n: 2, method: 'bound', repeat: 1, sizeBytes: o.sizeBytes, rateBps: o.rateBps, slowRateBps: 0 }, o),
    cpuMean: 40, cpuPeak: 90, cpuBefore: 2, cpuOwn: 30, ...over
  }
}

t.test('options: flags over the environment over the defaults, and clear refusals', async t => {
  t.same(parseOptions([], {}, '/r').counts, [1, 2, 4, 8, 16, 32])
  t.equal(parseOptions([], { RATE: '20mbit' }, '/r').rateBps, 20e6)
  t.equal(parseOptions(['--rate', '10mbit'], { RATE: '20mbit' }, '/r').rateBps, 10e6)
  t.equal(o.sizeBytes, 1024 * 1024)
  t.throws(() => parseOptions(['--n', '0'], {}, '/r'), /--n 0 is not a whole number/)
  t.throws(() => parseOptions(['--methods', 'ftp'], {}, '/r'), /ftp is not one of ezio, unicast, multicast/)
  t.throws(() => parseOptions(['--rate', 'fast'], {}, '/r'), /rate fast is not like 100mbit/)
})

t.test('finished rows survive a restart; machine rows without their row are dropped; another format starts over', async t => {
  const dir = await tempDir(t)
  const store = new ResultStore(dir)
  t.match(await store.load(false), /no earlier results/)
  const ezio = row({ method: 'ezio', lastS: 2.5, lastFastS: 2.5, seederUploaded: 1.5 * o.sizeBytes, fromSeeder: 1.5 * o.sizeBytes, fromPeers: 0.5 * o.sizeBytes, error: 'exit 1: "quoted", with a comma' })
  const m: MachineRow = { case: 'even', n: 2, method: 'ezio', repeat: 1, sizeBytes: o.sizeBytes, rateBps: o.rateBps, slowRateBps: 0, machine: 'm01', slow: false, seconds: 2.5, startS: 0.4, verified: true, fromSeeder: 1, fromPeers: 2, error: '' }
  await store.add(ezio, [m])
  // A measurement interrupted after its machine rows but before its row.
  await fs.appendFile(store.machinesFile, 'even,2,unicast,1,1048576,8000000,0,m01,0,3,,1,,,\n')

  const again = new ResultStore(dir)
  t.match(await again.load(false), /resuming: 1 finished rows/)
  t.ok(again.has(ezio), 'the finished row is not run again')
  t.notOk(again.has({ ...ezio, method: 'unicast' }), 'the unfinished one is')
  t.equal(again.rows[0]!.error, ezio.error, 'quotes and commas survive the CSV')
  t.equal(again.rows[0]!.slowS, null, 'empty fields read back as null')
  t.equal((await fs.readFile(again.machinesFile, 'utf8')).trim().split('\n').length, 2, 'the orphan machine row is gone')

  await fs.writeFile(again.file, 'some,other,format\n1,2,3\n')
  t.match(await new ResultStore(dir).load(false), /starting over/)
  t.equal(await fs.readFile(path.join(dir, 'lab.csv.old'), 'utf8'), 'some,other,format\n1,2,3\n', 'the old file is kept aside')
})

t.test('table and plot show every method against the bound, and say when the CPU was the limit', async t => {
  const rows = [
    row({ method: 'ezio', lastS: 1.2, lastFastS: 1.2, cpuMean: 95, seederUploaded: o.sizeBytes, fromSeeder: o.sizeBytes, fromPeers: o.sizeBytes }),
    row({ method: 'unicast', lastS: 2.1, lastFastS: 2.1 }),
    row({ method: 'multicast', lastS: null, lastFastS: null, verified: 1, error: 'exit 124: timed out' })
  ]
  const text = renderTables(rows, o)
  t.match(text, /bound S\/B = 1\.0 s/)
  t.match(text, /1\.2\s+1\.14x\s+95\/90 \(30\)\*/, 'ezio: time, ratio to the bound, CPU marked')
  t.match(text, /the CPU, not the network, may have set the time \(ezio even N=2\)/)
  t.match(text, /FAILED multicast, even links, N=2: 1 of 1 runs failed: exit 124: timed out/)
  t.match(text, /1\.00 S\s+50%\s+0\.50/, 'what the seeder sent and what came from peers')
  const svg = renderPlot(rows, o)
  t.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  t.match(svg, /bound S\/B/)
  t.equal((svg.match(/<circle /g) ?? []).length, 2, 'one point per measured (method, N): ezio and unicast at N=2')
})
