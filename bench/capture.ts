// Capture throughput: a reference disk (this machine's /usr on ext4, as
// bench/compressed makes it) sent by ezio capture into ezio serve's store
// over loopback, beside partclone.ext4 -c of the same partition to
// /dev/null, in the same run. The reference: half a 1 Gbit/s link,
// 62.5 MB/s of used data. See bench/capture for the knobs.
import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, waitFor } from '../test/helpers/net.ts'
import { bundle, node } from '../test/helpers/paths.ts'
import { children, cleanups, median, runMain } from './run-main.ts'
import { makeUsrDisk } from './usr-disk.ts'

const libMiB = Number(process.env.LIB_MIB ?? 400)
const runs = Number(process.env.RUNS ?? 3)
const HALF_GIGABIT = 125e6 / 2

interface Cpu { busy: number, total: number }

async function hostCpu (): Promise<Cpu> {
  const fields = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const idle = fields[3]! + fields[4]!
  const total = fields.reduce((a, b) => a + b, 0)
  return { busy: total - idle, total }
}

/** CMD's wall seconds, its own CPU seconds (sh's times: user + system of children) and the host's busy share. */
async function timed (cmd: string[]): Promise<{ seconds: number, cpu: number, host: number, stderr: string }> {
  const before = await hostCpu()
  const started = process.hrtime.bigint()
  const r = await execa('sh', ['-c', '"$@" >&2; rc=$?; times; exit $rc', 'sh', ...cmd], { reject: false })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const after = await hostCpu()
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} failed: ${String(r.stderr).slice(-400)}`)
  const childLine = String(r.stdout).trim().split('\n').at(-1) ?? ''
  const cpu = childLine.split(/\s+/).map(t => /^(\d+)m([\d.]+)s$/.exec(t)).filter((m): m is RegExpExecArray => m !== null)
    .reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0)
  return { seconds, cpu, host: (after.busy - before.busy) / Math.max(1, after.total - before.total), stderr: String(r.stderr) }
}

async function main (): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ezio-bench-capture-'))
  cleanups.push(() => fs.rm(work, { recursive: true, force: true }))
  const { disk } = await makeUsrDisk(work, libMiB)
  const loop = (await execa('losetup', ['-f', '--show', disk])).stdout.trim()
  cleanups.unshift(() => execa('losetup', ['-d', loop]))
  const part = (await execa('losetup', ['-f', '--show', '-o', String(1024 * 1024), disk])).stdout.trim()
  cleanups.unshift(() => execa('losetup', ['-d', part]))

  const port = await freePort()
  const server = execa(node, [bundle, 'serve', '--state', path.join(work, 'state'), '--port', String(port), '--bt-port', String(await freePort()), '--advertise', `127.0.0.1:${port}`],
    { reject: false, stdin: 'ignore', all: true, buffer: false })
  children.push(server)
  let out = ''
  server.all?.on('data', (c: Buffer) => { out += c.toString() })
  const token = await waitFor('ezio serve', () => /\?token=([0-9a-f]+)/.exec(out)?.[1], 60_000, 50)
  const url = `http://127.0.0.1:${port}`
  console.log(`capture throughput: /usr on ext4 (${libMiB} MiB of libraries) as a loop device, ezio capture -> ezio serve over loopback, beside partclone.ext4 -c of the same partition to /dev/null; ${runs} runs, medians; ${os.cpus().length} cores; the disk is in the page cache for both`)

  const captures: Array<{ seconds: number, cpu: number, host: number, used: number, sent: number }> = []
  const partclones: Array<{ seconds: number, cpu: number, host: number }> = []
  for (let i = 0; i < runs; i++) {
    const pc = await timed(['partclone.ext4', '-c', '-q', '-s', part, '-O', '/dev/null'])
    partclones.push(pc)
    const c = await timed([node, bundle, 'capture', loop, url, '--name', 'ref', '--token', token, '--quiet', ...(i > 0 ? ['--replace'] : [])])
    const m = /: ([\d.]+) MB used, ([\d.]+) MB sent in /.exec(c.stderr)
    if (!m) throw new Error(`no summary from ezio capture: ${c.stderr.slice(-300)}`)
    captures.push({ ...c, used: Number(m[1]) * 1e6, sent: Number(m[2]) * 1e6 })
    console.log(`  run ${i + 1}: ezio capture ${c.seconds.toFixed(2)} s (${(captures[i]!.used / c.seconds / 1e6).toFixed(1)} MB/s used, ${(captures[i]!.sent / c.seconds / 1e6).toFixed(1)} MB/s on the wire; client CPU ${c.cpu.toFixed(2)} s, host ${(100 * c.host).toFixed(0)} %)` +
      ` | partclone ${pc.seconds.toFixed(2)} s (CPU ${pc.cpu.toFixed(2)} s, host ${(100 * pc.host).toFixed(0)} %)`)
  }
  const used = captures[0]!.used
  const capRate = median(captures.map(c => c.used / c.seconds))
  const pcRate = median(partclones.map(p => used / p.seconds))
  console.log(`used data ${(used / 1e6).toFixed(1)} MB, ${(captures[0]!.sent / 1e6).toFixed(1)} MB sent (zstd level 3)`)
  console.log(`ezio capture   ${(capRate / 1e6).toFixed(1)} MB/s of used data (median), host CPU ${(100 * median(captures.map(c => c.host))).toFixed(0)} %, client ${median(captures.map(c => c.cpu / (c.used / 1e9))).toFixed(1)} CPU s per GB`)
  console.log(`partclone -c   ${(pcRate / 1e6).toFixed(1)} MB/s to /dev/null (median), host CPU ${(100 * median(partclones.map(p => p.host))).toFixed(0)} %`)
  console.log(`reference      ${(HALF_GIGABIT / 1e6).toFixed(1)} MB/s (half a 1 Gbit/s link): capture ${(capRate / HALF_GIGABIT).toFixed(2)} x of it; ${(capRate / pcRate).toFixed(2)} x partclone`)
}

runMain(main)
