// Compressed pieces (issue #14) against the uncompressed used blocks of the
// same realistic disk (bench/usr-disk.ts): payload, time to make the torrent,
// 1 -> 1 clone throughput over loopback in disk bytes written per second, the
// clone checked (fsck, every file), and a namespace room of N machines beside
// udpcast multicast of one zstd stream, as Clonezilla sends it. See bench/compressed.
import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CpuSampler } from '../lab/cpu.ts'
import { runMulticast } from '../lab/multicast.ts'
import { Network, parseRate } from '../lab/netns.ts'
import { runRoom } from '../lab/room.ts'
import { blankFile } from '../test/helpers/files.ts'
import { freePort, waitFor } from '../test/helpers/net.ts'
import { bundle, node } from '../test/helpers/paths.ts'
import { children, cleanups, median, runMain } from './run-main.ts'
import { makeUsrDisk } from './usr-disk.ts'

const libMiB = Number(process.env.LIB_MIB ?? 200)
const runs = Number(process.env.RUNS ?? 3)
const roomN = Number(process.env.N ?? 8)
const rate = process.env.RATE ?? '50mbit'
const roomRuns = Number(process.env.ROOM_RUNS ?? 1)

interface Made { seconds: number, payload: number, raw: number }
interface Sample { seconds: number, cpu: number, rssMiB: number }

async function create (disk: string, torrent: string, extra: string[]): Promise<Made> {
  const started = Date.now()
  const r = await execa(node, [bundle, 'create', disk, '-o', torrent, '--used-blocks', '--quiet', ...extra])
  const payloads = [...r.stderr.matchAll(/^payload +(\d+) bytes/gm)].map(m => Number(m[1]))
  return { seconds: (Date.now() - started) / 1000, payload: payloads.at(-1)!, raw: payloads[0]! }
}

async function seeder (args: string[]): Promise<string> {
  const port = await freePort()
  const proc = execa(node, [bundle, 'seed', ...args, '--skip-verify', '--bt-port', String(port)], { reject: false, stdin: 'ignore', all: true, buffer: false })
  children.push(proc)
  let out = ''
  proc.all?.on('data', (c: Buffer) => { out += c.toString() })
  await waitFor('ezio seed', () => /^seeding .* on port/m.test(out) ? true : undefined, 60_000, 50)
  return `127.0.0.1:${port}`
}

/** One clone onto a blank file, under time(1): wall time and the clone's own CPU. */
async function clone (torrent: string, peer: string, target: string, size: number, work: string): Promise<Sample> {
  await fs.rm(target, { force: true })
  await blankFile(target, size)
  const timing = path.join(work, 'time.txt')
  const started = Date.now()
  const r = await execa('/usr/bin/time', ['-f', '%U %S %M', '-o', timing, node, bundle, 'clone', torrent, target, '--peer', peer, '--seed-ratio', '0', '--progress', 'none'], { reject: false, timeout: 30 * 60_000 })
  const seconds = (Date.now() - started) / 1000
  if (r.exitCode !== 0) throw new Error(`ezio clone failed (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`)
  const [user, sys, rssKiB] = (await fs.readFile(timing, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number)
  return { seconds, cpu: user! + sys!, rssMiB: rssKiB! / 1024 }
}

/** The clone is correct: its partition passes fsck and holds TREE's files, byte for byte. */
async function checkClone (target: string, tree: string, work: string): Promise<void> {
  const dev = (await execa('losetup', ['-f', '--show', '-o', String(1024 * 1024), target])).stdout.trim()
  try {
    const fsck = await execa('e2fsck', ['-f', '-n', dev], { reject: false })
    if (fsck.exitCode !== 0) throw new Error(`e2fsck on the clone: ${fsck.stdout}`)
    const out = path.join(work, 'dump')
    await fs.rm(out, { recursive: true, force: true })
    await fs.mkdir(out)
    await execa('debugfs', ['-R', `rdump /usr ${out}`, dev])
    const diff = await execa('diff', ['-r', '--no-dereference', path.join(tree, 'usr'), path.join(out, 'usr')], { reject: false })
    if (diff.exitCode !== 0) throw new Error(`the clone's files differ from the source's: ${diff.stdout.slice(0, 2000)}`)
    await fs.rm(out, { recursive: true, force: true })
  } finally {
    await execa('losetup', ['-d', dev], { reject: false })
  }
}

async function oneToOne (disk: string, size: number, raw: number, torrents: { plain: string, compressed: string, payload: string }, tree: string, work: string): Promise<void> {
  const plainSeed = await seeder([torrents.plain, disk])
  // As ezio serve seeds it: the payload as made.
  const compSeed = await seeder([torrents.compressed, disk, '--payload', torrents.payload])
  const target = path.join(work, 'target.img')
  const plain: Sample[] = []
  const comp: Sample[] = []
  for (let i = 0; i < runs; i++) {
    plain.push(await clone(torrents.plain, plainSeed, target, size, work))
    comp.push(await clone(torrents.compressed, compSeed, target, size, work))
    if (i === 0) await checkClone(target, tree, work)
    process.stderr.write(`1->1 run ${i + 1}/${runs}: used blocks ${plain[i]!.seconds.toFixed(1)} s, compressed ${comp[i]!.seconds.toFixed(1)} s\n`)
  }
  const rate = (xs: Sample[]): number => raw / median(xs.map(s => s.seconds)) / 1e6
  const rss = (xs: Sample[]): string => Math.max(...xs.map(s => s.rssMiB)).toFixed(0)
  console.log(`1->1 over loopback, disk MB written per second (median of ${runs}; CPU s and peak RSS of the clone process; RSS target < 256 MiB):`)
  console.log(`  used blocks  ${rate(plain).toFixed(1)} MB/s   CPU ${median(plain.map(s => s.cpu)).toFixed(1)} s   RSS ${rss(plain)} MiB`)
  console.log(`  compressed   ${rate(comp).toFixed(1)} MB/s   CPU ${median(comp.map(s => s.cpu)).toFixed(1)} s   RSS ${rss(comp)} MiB`)
  console.log(`  compressed / used blocks: ${(rate(comp) / rate(plain)).toFixed(2)} (target >= 1: ${rate(comp) >= rate(plain) ? 'met' : 'NOT met'}); the clone passed e2fsck and holds every file of the source`)
}

async function room (disk: string, made: { plain: Made, comp: Made }, work: string): Promise<void> {
  const bps = parseRate(rate)
  const rawBound = made.plain.payload * 8 / bps
  const compBound = made.comp.payload * 8 / bps
  console.log(`room: N = ${roomN} at ${rate}; bounds: used blocks ${rawBound.toFixed(1)} s, compressed payload ${compBound.toFixed(1)} s (target 1.3 x = ${(1.3 * compBound).toFixed(1)} s)`)
  const rows: Record<string, Array<{ seconds: number | null, cpu: number | null, verified: number }>> = { 'ezio used blocks': [], 'ezio compressed': [], 'udpcast zstd': [] }
  for (let i = 0; i < roomRuns; i++) {
    for (const method of Object.keys(rows)) {
      const net = await Network.create()
      const cpu = new CpuSampler()
      try {
        const server = await net.addHost('srv', 1, rate)
        const machines = []
        for (let m = 0; m < roomN; m++) machines.push(await net.addHost(`m${m + 1}`, 11 + m, rate))
        const dir = await fs.mkdtemp(path.join(work, 'room-'))
        const opts = { image: disk, dir, timeoutSeconds: Math.ceil(10 * rawBound + 300), log: (l: string) => process.stderr.write(`  ${l}\n`) }
        await cpu.start()
        const r = method === 'udpcast zstd'
          ? await runMulticast(net, server, machines, { ...opts, zstd: true })
          : await runRoom(net, server, machines, { ...opts, serveArgs: method === 'ezio compressed' ? ['--used-blocks', '--compress'] : ['--used-blocks'] })
        await cpu.stop()
        const use = r.seconds === null ? null : cpu.use(r.started, r.started + r.seconds * 1000).mean
        rows[method]!.push({ seconds: r.seconds, cpu: use, verified: r.machines.filter(m => m.verified).length })
        process.stderr.write(`room run ${i + 1}: ${method} ${r.seconds?.toFixed(1) ?? 'failed'} s, CPU ${use?.toFixed(0)} %, ${r.machines.filter(m => m.verified).length}/${roomN} verified${r.machines.find(m => m.error)?.error ? `: ${r.machines.find(m => m.error)!.error}` : ''}\n`)
        await fs.rm(dir, { recursive: true, force: true })
      } finally {
        await cpu.stop().catch(() => {})
        await net.destroy()
      }
    }
  }
  for (const [method, xs] of Object.entries(rows)) {
    const done = xs.map(x => x.seconds).filter((s): s is number => s !== null)
    const s = done.length ? median(done) : NaN
    console.log(`  ${method.padEnd(17)} ${s.toFixed(1).padStart(6)} s   ${(s / compBound).toFixed(2)} x compressed bound   ${(s / rawBound).toFixed(2)} x used-blocks bound   host CPU ${median(xs.map(x => x.cpu ?? NaN)).toFixed(0)} %   verified ${xs.map(x => `${x.verified}/${roomN}`).join(', ')}`)
  }
  const comp = median(rows['ezio compressed']!.map(x => x.seconds ?? Infinity))
  console.log(`  ezio compressed within 1.3 x compressed payload / B: ${comp <= 1.3 * compBound ? 'met' : 'NOT met'}`)
}

async function main (): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/compressed needs root (loop devices, partclone, namespaces)')
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ezio-bench-zstd-'))
  cleanups.push(() => fs.rm(work, { recursive: true, force: true }))
  const { disk, tree, fileBytes } = await makeUsrDisk(work, libMiB)
  const size = (await fs.stat(disk)).size
  console.log(`compressed pieces: a ${(size / 1e6).toFixed(0)} MB GPT disk, ext4 holding ${(fileBytes / 1e6).toFixed(0)} MB of this machine's /usr; ${os.cpus().length} cores`)
  const plainTorrent = path.join(work, 'plain.torrent')
  const compTorrent = path.join(work, 'comp.torrent')
  const payload = path.join(work, 'comp.payload')
  const plain = await create(disk, plainTorrent, [])
  const comp = await create(disk, compTorrent, ['--compress', '--payload', payload])
  const perGiB = comp.seconds / (comp.raw / 2 ** 30)
  console.log(`used blocks: ${(plain.payload / 1e6).toFixed(1)} MB, made in ${plain.seconds.toFixed(1)} s`)
  console.log(`compressed:  ${(comp.payload / 1e6).toFixed(1)} MB, made in ${comp.seconds.toFixed(1)} s (${perGiB.toFixed(1)} s per GiB of used blocks; target < 60 s: ${perGiB < 60 ? 'met' : 'NOT met'})`)
  console.log(`payload compressed / used blocks: ${(comp.payload / plain.payload).toFixed(3)} (target <= 0.45: ${comp.payload / plain.payload <= 0.45 ? 'met' : 'NOT met'})`)
  await oneToOne(disk, size, comp.raw, { plain: plainTorrent, compressed: compTorrent, payload }, tree, work)
  if (roomN > 0) await room(disk, { plain, comp }, work)
}

runMain(main)
