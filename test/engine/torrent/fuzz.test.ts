import { promises as fs } from 'node:fs'
import path from 'node:path'
import bencode from 'bencode'
import { execa } from 'execa'
import t from 'tap'
import { exitCodes } from '../../../cli/exit-codes.ts'
import { checkTargetSectors } from '../../../engine/disk/target-table.ts'
import { openTarget } from '../../../engine/disk/target.ts'
import { verifyTarget } from '../../../engine/disk/verify-target.ts'
import { EzioError } from '../../../engine/errors.ts'
import { parseTorrentFile } from '../../../engine/torrent/load.ts'
import { ext4WithFiles, gptImage } from '../../helpers/disks.ts'
import { ezio } from '../../helpers/ezio.ts'
import { blankFile, compressibleImage, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { executable } from '../../helpers/paths.ts'

const MiB = 1024 * 1024
const PER_BASE = 250
const SAMPLE_EVERY = 20

// A small seeded PRNG (mulberry32): a failing case can be made again from its number.
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

type Value = number | Uint8Array | Value[] | { [key: string]: Value }

// Every place in a decoded torrent where a value sits: [container, key].
function places (v: Value, out: [Value[] | Record<string, Value>, string | number][] = []): typeof out {
  if (Array.isArray(v)) v.forEach((x, i) => { out.push([v, i]); places(x, out) })
  else if (typeof v === 'object' && !(v instanceof Uint8Array)) for (const k of Object.keys(v)) { out.push([v, k]); places(v[k]!, out) }
  return out
}

const odd: Value[] = [
  0, -1, 2 ** 53, Number.MAX_SAFE_INTEGER, 16 * MiB * 1024, 3 * MiB,
  Buffer.from(''), Buffer.from('../../etc/passwd'), Buffer.from('/dev/sda'), Buffer.from('a\0b'), Buffer.alloc(5000, 0x41),
  [], [Buffer.from('..')], {}, { length: -5 }
]

/** One mutation of TORRENT, and what it was. */
function mutate (torrent: Uint8Array, rand: () => number): [Uint8Array, string] {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!
  const kind = Math.floor(rand() * 6)
  if (kind === 0) {
    const b = Buffer.from(torrent)
    const flips = 1 + Math.floor(rand() * 8)
    for (let i = 0; i < flips; i++) b[Math.floor(rand() * b.length)]! ^= 1 << Math.floor(rand() * 8)
    return [b, `${flips} bit flips`]
  }
  if (kind === 1) {
    const at = Math.floor(rand() * torrent.length)
    return [torrent.subarray(0, at), `truncated at ${at}`]
  }
  if (kind === 2) {
    const at = Math.floor(rand() * torrent.length)
    return [Buffer.concat([torrent.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))), torrent.subarray(at)]), `bytes spliced at ${at}`]
  }
  const decoded = bencode.decode(torrent) as Value
  const [box, key] = pick(places(decoded))
  const name = String(key)
  if (kind === 3) {
    const v = pick(odd);
    (box as Record<string, Value>)[key as string] = v
    return [bencode.encode(decoded), `${name} set to ${JSON.stringify(v).slice(0, 30)}`]
  }
  if (kind === 4) {
    if (Array.isArray(box)) box.splice(key as number, 1)
    else delete box[key as string]
    return [bencode.encode(decoded), `${name} removed`]
  }
  const into = Array.isArray(box) ? undefined : box
  if (into) into[`x-${Math.floor(rand() * 1000)}`] = pick(odd)
  else (box as Value[]).push(pick(odd))
  return [bencode.encode(decoded), `extra value beside ${name}`]
}

/** A named refusal: an EzioError of a kind a script can test, never an internal one. */
function named (err: unknown): boolean {
  return err instanceof EzioError && err.kind !== 'internal'
}

t.test(`torrent fuzzing: ${PER_BASE * 4} mutations of raw, used-blocks and compressed torrents end in success or a named refusal`, async t => {
  const dir = await tempDir(t)
  const raw = await randomImage(path.join(dir, 'raw.img'), 2 * MiB)
  const soft = await compressibleImage(path.join(dir, 'soft.img'), 2 * MiB)
  const disk = path.join(dir, 'disk.img')
  const [ext] = await gptImage(disk, 64 * MiB, [{ bytes: 48 * MiB, code: '8300' }])
  await ext4WithFiles(t, disk, ext!, [soft])
  const bases: [string, string[]][] = [
    ['raw', [raw, '--piece-size', String(256 * 1024)]],
    ['raw compressed', [soft, '--compress', '--piece-size', String(256 * 1024)]],
    ['used blocks', [disk, '--used-blocks']],
    ['used blocks compressed', [disk, '--used-blocks', '--compress']]
  ]
  const target = await blankFile(path.join(dir, 'target.img'), 80 * MiB)
  const before = await sha256(target)
  const sample: [string, Uint8Array][] = []
  const counts = { loaded: 0, refused: 0, verified: 0, opened: 0 }
  const failures: string[] = []
  for (const [b, [label, args]] of bases.entries()) {
    const file = path.join(dir, `${b}.torrent`)
    const made = await ezio(['create', ...args, '-o', file, '--quiet'])
    t.equal(made.exitCode, 0, `${label}: ${made.stderr.trim().split('\n').at(-1)}`)
    const torrent = await fs.readFile(file)
    const rand = prng(1000 + b)
    for (let i = 0; i < PER_BASE; i++) {
      const [mutant, what] = mutate(torrent, rand)
      const name = `${label} #${i} (${what})`
      if (i % SAMPLE_EVERY === 0) sample.push([name, mutant])
      let meta
      try {
        meta = await parseTorrentFile(mutant, name)
        counts.loaded++
      } catch (err) {
        if (named(err)) counts.refused++
        else failures.push(`${name}: load: ${(err as Error)?.stack ?? String(err)}`)
        continue
      }
      // Still a torrent: verify reads the target against it, and clone's
      // refusals before a write (size, sectors) run on it; nothing is written.
      try {
        await verifyTarget(meta, target)
        counts.verified++
      } catch (err) {
        if (!named(err)) failures.push(`${name}: verify: ${(err as Error)?.stack ?? String(err)}`)
      }
      try {
        const opened = await openTarget(target, meta.layout.end)
        try {
          await checkTargetSectors(meta.record, opened.info)
          counts.opened++
        } finally {
          await opened.handle.close()
        }
      } catch (err) {
        if (!named(err)) failures.push(`${name}: clone's checks: ${(err as Error)?.stack ?? String(err)}`)
      }
    }
  }
  t.same(failures, [], `no internal error, stack trace or crash: ${JSON.stringify(counts)}`)
  t.equal(counts.loaded + counts.refused, PER_BASE * 4, 'every case accounted for')
  t.ok(counts.refused > 0 && counts.loaded > 0, 'the mutations both break torrents and leave some valid')
  t.equal(await sha256(target), before, 'the target is unchanged')

  // A sample through the real executable, dist/ezio: ezio verify, and ezio
  // clone with no peer to reach (a torrent still valid then waits; it is stopped).
  const codes = new Set(Object.values(exitCodes))
  const outcomes: Record<string, number> = {}
  for (const [k, [name, mutant]] of sample.entries()) {
    const file = path.join(dir, `sample-${k}.torrent`)
    await fs.writeFile(file, mutant)
    const verify = await execa(executable, ['verify', file, target], { reject: false, input: '' })
    const clone = await execa(executable, ['clone', file, target, '--peer', '127.0.0.1:9', '--seed-ratio', '0', '--progress', 'none'], { reject: false, timeout: 2000, input: '' })
    for (const [cmd, code, stderr, timedOut] of [['verify', verify.exitCode, String(verify.stderr), false], ['clone', clone.exitCode, String(clone.stderr), clone.timedOut]] as const) {
      const outcome = timedOut ? 'still valid, waiting for peers' : `exit ${code}`
      outcomes[`${cmd} ${outcome}`] = (outcomes[`${cmd} ${outcome}`] ?? 0) + 1
      if (timedOut) continue
      const ok = typeof code === 'number' && codes.has(code) && code !== exitCodes.internal
      if (!ok || /\n\s+at |internal error/.test(stderr)) failures.push(`${name}: ${cmd}: exit ${code}: ${stderr.slice(0, 300)}`)
      else if (code !== 0 && code !== exitCodes.verifyFailed && stderr.trim().split('\n').length !== 1) failures.push(`${name}: ${cmd}: more than one line: ${stderr.slice(0, 300)}`)
    }
    if (await sha256(target) !== before) failures.push(`${name}: the target changed`)
  }
  t.same(failures, [], `${sample.length} through the executable: ${JSON.stringify(outcomes)}`)
  t.equal(await sha256(target), before, 'the target is unchanged after the sample')
})
