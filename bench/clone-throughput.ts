// Clone throughput: one seeder to one clone over loopback, ezio beside
// libtorrent (as ezio upstream runs it) in the same run. See
// bench/clone-throughput for the knobs. Prints medians over RUNS runs.
import { execa, type ResultPromise } from 'execa'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { blankFile, randomImage, sha256 } from '../test/helpers/files.ts'
import { freePort, waitFor } from '../test/helpers/net.ts'
import { bundle, node, root } from '../test/helpers/paths.ts'
import { children, cleanups, median, runMain } from './run-main.ts'

const MiB = 1024 * 1024
const size = Number(process.env.SIZE_MIB ?? 1024) * MiB
const runs = Number(process.env.RUNS ?? 3)
const profile = process.env.PROFILE === '1'
const python = '/usr/bin/python3'
const ltPeer = path.join(root, 'test/fixtures/libtorrent_peer.py')

interface Sample { seconds: number, cpu: number, rssMiB: number }

/** Runs ARGV under /usr/bin/time; wall, user+sys CPU and peak RSS of that process. */
async function measured (argv: string[], what: string): Promise<Sample> {
  const timing = path.join(os.tmpdir(), `ezio-bench-time-${process.pid}`)
  const r = await execa('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timing, ...argv], { reject: false, stdin: 'ignore', timeout: 30 * 60_000 })
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}):\n${String(r.stderr).slice(-2000)}\n${String(r.stdout).slice(-2000)}`)
  const [wall, user, sys, rssKiB] = (await fs.readFile(timing, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number)
  await fs.rm(timing, { force: true })
  return { seconds: wall!, cpu: user! + sys!, rssMiB: rssKiB! / 1024 }
}

function background (cmd: string, args: string[]): { proc: ResultPromise, out: () => string } {
  const proc = execa(cmd, args, { reject: false, stdin: 'ignore', all: true, buffer: false })
  let out = ''
  proc.all?.on('data', (c: Buffer) => { out += c.toString() })
  children.push(proc)
  return { proc, out: () => out }
}

async function ezioSeeder (torrent: string, image: string): Promise<string> {
  const port = await freePort('127.0.0.2')
  const s = background(node, [bundle, 'seed', torrent, image, '--skip-verify', '--bt-port', String(port)])
  await waitFor('ezio seed', () => /^seeding .* on port/m.test(s.out()) ? true : undefined, 60_000, 50)
  return `127.0.0.2:${port}`
}

async function libtorrentSeeder (torrent: string, dir: string): Promise<string> {
  const s = background(python, [ltPeer, 'seed', torrent, dir, '--listen', '127.0.0.4'])
  const port = await waitFor('libtorrent seed', () => /^seeding (\d+)$/m.exec(s.out())?.[1], 60_000, 50)
  return `127.0.0.4:${port}`
}

async function checked (file: string, want: string, what: string): Promise<void> {
  const got = await sha256(file)
  if (got !== want) throw new Error(`${what}: the copy differs from the image`)
}

async function ezioClone (torrent: string, peer: string, work: string, want: string, extraNode: string[] = []): Promise<Sample> {
  const target = await blankFile(path.join(work, 'target.raw'), size)
  const s = await measured([node, ...extraNode, bundle, 'clone', torrent, target, '--peer', peer, '--seed-ratio', '0', '--progress', 'none'], 'ezio clone')
  await checked(target, want, 'ezio clone')
  await fs.rm(target)
  return s
}

async function libtorrentClone (torrent: string, peer: string, work: string, want: string): Promise<Sample> {
  const dir = path.join(work, 'lt-download')
  await fs.mkdir(dir, { recursive: true })
  const s = await measured([python, ltPeer, 'download', torrent, dir, '--listen', '127.0.0.5', '--peer', peer, '--timeout', '1800'], 'libtorrent download')
  await checked(path.join(dir, 'image.raw'), want, 'libtorrent')
  await fs.rm(dir, { recursive: true })
  return s
}

function row (name: string, samples: Sample[]): { name: string, mbps: number, cpu: number, rss: number } {
  return {
    name,
    mbps: median(samples.map(s => size / 1e6 / s.seconds)),
    cpu: median(samples.map(s => s.cpu)),
    rss: Math.max(...samples.map(s => s.rssMiB))
  }
}

/** Top self-time functions of a V8 .cpuprofile. */
async function topOfProfile (file: string, count = 15): Promise<string> {
  interface ProfileNode { id: number, hitCount?: number, callFrame: { functionName: string, url: string, lineNumber: number } }
  const prof = JSON.parse(await fs.readFile(file, 'utf8')) as { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[] }
  const total = prof.samples.length
  const self = new Map<string, number>()
  for (const n of prof.nodes) {
    const f = n.callFrame
    const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : ''
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim()
    self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0))
  }
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([k, hits]) => `  ${(100 * hits / total).toFixed(1).padStart(5)}%  ${k}`).join('\n')
}

async function main (): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ezio-bench-'))
  cleanups.push(() => fs.rm(work, { recursive: true, force: true }))
  console.log(`clone throughput: ${size / MiB} MiB random image, one seeder -> one clone over loopback, ${runs} runs, medians; ${os.cpus().length} cores`)
  const image = await randomImage(path.join(work, 'image.raw'), size)
  const want = await sha256(image)
  const torrent = path.join(work, 'image.torrent')
  await execa(node, [bundle, 'create', image, '-o', torrent, '--quiet'])
  const torrent16 = path.join(work, 'image-16m.torrent')
  await execa(node, [bundle, 'create', image, '-o', torrent16, '--quiet', '--piece-size', String(16 * MiB)])
  const pieceMiB = JSON.parse((await execa(python, ['-c', `import libtorrent as lt, json; print(json.dumps(lt.torrent_info(${JSON.stringify(torrent)}).piece_length()))`])).stdout) / MiB

  const ezioSeed = await ezioSeeder(torrent, image)
  const ltSeed = await libtorrentSeeder(torrent, work)
  const ezioSamples: Sample[] = []
  const ltSamples: Sample[] = []
  const crossSamples: Sample[] = []
  // Interleaved, so that a slow moment of the shared machine hits both.
  for (let i = 0; i < runs; i++) {
    ltSamples.push(await libtorrentClone(torrent, ltSeed, work, want))
    ezioSamples.push(await ezioClone(torrent, ezioSeed, work, want))
    crossSamples.push(await ezioClone(torrent, ltSeed, work, want))
    process.stderr.write(`run ${i + 1}/${runs}: libtorrent ${(size / 1e6 / ltSamples[i]!.seconds).toFixed(0)} MB/s, ezio ${(size / 1e6 / ezioSamples[i]!.seconds).toFixed(0)} MB/s, ezio from libtorrent ${(size / 1e6 / crossSamples[i]!.seconds).toFixed(0)} MB/s\n`)
  }
  const ezioSeed16 = await ezioSeeder(torrent16, image)
  const big = await ezioClone(torrent16, ezioSeed16, work, want)

  const rows = [
    row(`ezio seed -> ezio clone (${pieceMiB} MiB pieces)`, ezioSamples),
    row(`libtorrent -> libtorrent (${pieceMiB} MiB pieces)`, ltSamples),
    row('libtorrent seed -> ezio clone', crossSamples),
    row('ezio seed -> ezio clone, 16 MiB pieces (1 run)', [big])
  ]
  const w = Math.max(...rows.map(r => r.name.length))
  console.log(`${'transfer'.padEnd(w)}  ${'MB/s'.padStart(7)}  ${'CPU s'.padStart(6)}  ${'peak RSS MiB'.padStart(12)}   (CPU and RSS: the downloading process)`)
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.mbps.toFixed(1).padStart(7)}  ${r.cpu.toFixed(2).padStart(6)}  ${r.rss.toFixed(0).padStart(12)}`)
  const ratio = rows[0]!.mbps / rows[1]!.mbps
  // The cloners alone: both fetching from the same (libtorrent) seeder, whose
  // CPU on this machine's two cores is the same for both.
  console.log(`clone from the libtorrent seeder, ezio / libtorrent: ${(rows[2]!.mbps / rows[1]!.mbps).toFixed(2)}`)
  console.log(`ezio / libtorrent throughput: ${ratio.toFixed(2)}   peak RSS target < 256 MiB: ${rows.every(r => r.name.startsWith('libtorrent ->') || r.rss < 256) ? 'met' : 'NOT met'} (max ${Math.max(rows[0]!.rss, rows[2]!.rss, rows[3]!.rss).toFixed(0)} MiB)`)

  if (profile) {
    const dir = path.join(work, 'prof')
    await ezioClone(torrent, ezioSeed, work, want, ['--cpu-prof', `--cpu-prof-dir=${dir}`])
    const [file] = await fs.readdir(dir)
    console.log(`\nwhere ezio clone spends its main-thread time (self time, node --cpu-prof):\n${await topOfProfile(path.join(dir, file!))}`)
    if (process.env.PROFILE_KEEP) await fs.copyFile(path.join(dir, file!), process.env.PROFILE_KEEP)
  }
}

runMain(main)
