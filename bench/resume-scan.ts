// Resume scan: the check of what a target already holds never paces a clone.
// One seeder and one machine in network namespaces, on a link of RATE (a
// network slower than the disk, as a lab PC's); the machine clones onto
//   sparse   a sparse file (known blank: nothing to read),
//   written  a loop device over a file of random bytes (a disk that held
//            something else: every piece read, hashed, and found missing),
//   90%      a loop device over a file that holds 90 % of the image (a re-image).
// Prints the median of RUNS runs: written / sparse against 1.10, and what
// the 90 % clone fetched against the 10 % it lacks.
import { execa } from 'execa'
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Network } from '../lab/netns.ts'
import { blankFile, randomImage, sha256 } from '../test/helpers/files.ts'
import { waitFor } from '../test/helpers/net.ts'
import { bundle, node } from '../test/helpers/paths.ts'
import { children, cleanups, median, runMain } from './run-main.ts'

const MiB = 1024 * 1024
const size = Number(process.env.SIZE_MIB ?? 256) * MiB
const runs = Number(process.env.RUNS ?? 3)
const rate = process.env.RATE ?? '400mbit'
const PIECE = MiB

interface Run { seconds: number, fetched: number, refetched: number }

async function loop (file: string): Promise<string> {
  const dev = (await execa('losetup', ['-f', '--show', file])).stdout.trim()
  cleanups.push(() => execa('losetup', ['-d', dev], { reject: false }))
  return dev
}

/** A file of the image's size: random bytes, with the image's own in every piece but one in ten when KEEP. */
async function oldDisk (file: string, image: string, keep: boolean): Promise<void> {
  const src = await fs.open(image, 'r')
  const out = await fs.open(file, 'w')
  const buf = Buffer.alloc(PIECE)
  for (let i = 0; i * PIECE < size; i++) {
    if (keep && i % 10 !== 0) await src.read(buf, 0, PIECE, i * PIECE)
    else randomBytes(PIECE).copy(buf)
    await out.write(buf, 0, PIECE, i * PIECE)
  }
  await src.close()
  await out.close()
}

async function clone (net: Network, machine: Parameters<Network['exec']>[0], torrent: string, target: string, peer: string, want: string): Promise<Run> {
  const t0 = Date.now()
  const r = await net.exec(machine, node, [bundle, 'clone', torrent, target, '--peer', peer, '--seed-ratio', '0', '--progress', 'none'], { timeout: 30 * 60_000 })
  const seconds = (Date.now() - t0) / 1000
  if (r.exitCode !== 0) throw new Error(`ezio clone onto ${target} failed: ${String(r.stderr).slice(-1000)}`)
  if (await sha256(target, size) !== want) throw new Error(`${target}: the copy differs from the image`)
  const m = /([\d.]+) MB from the seeder.*; (\d+) fetched piece/.exec(String(r.stderr))
  if (!m) throw new Error(`no summary from ezio clone: ${String(r.stderr).slice(-500)}`)
  return { seconds, fetched: Number(m[1]) * 1e6, refetched: Number(m[2]) }
}

async function main (): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/resume-scan needs root (network namespaces, tc, loop devices)')
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ezio-bench-scan-'))
  cleanups.push(() => fs.rm(work, { recursive: true, force: true }))
  const image = await randomImage(path.join(work, 'image.raw'), size)
  const want = await sha256(image)
  const torrent = path.join(work, 'image.torrent')
  await execa(node, [bundle, 'create', image, '-o', torrent, '--piece-size', String(PIECE), '--quiet'])
  const net = await Network.create()
  cleanups.push(() => net.destroy())
  const server = await net.addHost('srv', 1, rate)
  const machine = await net.addHost('m01', 11, rate)
  const seed = net.exec(server, node, [bundle, 'seed', torrent, image, '--skip-verify', '--bt-port', '6881'], { all: true, buffer: false })
  children.push(seed)
  let out = ''
  seed.all?.on('data', (c: Buffer) => { out += c.toString() })
  await waitFor('ezio seed', () => /^seeding .* on port/m.test(out) ? true : undefined, 60_000, 50)
  const peer = `${server.ip}:6881`
  console.log(`resume scan: ${size / MiB} MiB random image, 1 MiB pieces, one seeder -> one clone over a ${rate} link (tc), ${runs} runs, medians; ${os.cpus().length} cores`)

  const results: Record<'sparse' | 'written' | 'kept', Run[]> = { sparse: [], written: [], kept: [] }
  for (let i = 1; i <= runs; i++) {
    const sparse = await blankFile(path.join(work, 'sparse.raw'), size)
    results.sparse.push(await clone(net, machine, torrent, sparse, peer, want))
    await fs.rm(sparse)
    for (const kind of ['written', 'kept'] as const) {
      const file = path.join(work, `${kind}.raw`)
      await oldDisk(file, image, kind === 'kept')
      const dev = await loop(file)
      results[kind].push(await clone(net, machine, torrent, dev, peer, want))
      await execa('losetup', ['-d', dev], { reject: false })
      await fs.rm(file)
    }
    const [s, w, k] = [results.sparse.at(-1)!, results.written.at(-1)!, results.kept.at(-1)!]
    console.log(`run ${i}/${runs}: sparse ${s.seconds.toFixed(1)} s, written ${w.seconds.toFixed(1)} s, 90% ${k.seconds.toFixed(1)} s fetching ${(100 * k.fetched / size).toFixed(1)} %`)
  }
  const sec = (k: keyof typeof results): number => median(results[k].map(r => r.seconds))
  const kept = results.kept
  const fetchedShare = median(kept.map(r => r.fetched)) / size
  console.log('target                                      seconds  fetched  fetched pieces already there')
  for (const [k, label] of [['sparse', 'sparse file'], ['written', 'loop device, random old bytes'], ['kept', 'loop device, 90 % of the image']] as const) {
    const r = results[k]
    console.log(`${label.padEnd(42)} ${sec(k).toFixed(1).padStart(7)}  ${(100 * median(r.map(x => x.fetched)) / size).toFixed(1).padStart(6)} %  ${median(r.map(x => x.refetched))}`)
  }
  const ratio = sec('written') / sec('sparse')
  console.log(`written / sparse: ${ratio.toFixed(2)} (target <= 1.10): ${ratio <= 1.1 ? 'met' : 'NOT met'}`)
  console.log(`90 % re-image fetched ${(100 * fetchedShare).toFixed(1)} % of the image (the 10 % it lacks, plus the protocol's bytes): ${fetchedShare <= 0.11 ? 'met' : 'NOT met'}`)
}

runMain(main)
