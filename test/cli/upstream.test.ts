import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { loadTorrent } from '../../engine/torrent/load.ts'
import { clonezillaGenerator, genTorrentFromPtcl, startOpentracker, trackerUrl } from '../helpers/clonezilla.ts'
import { ezio } from '../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { freePort, waitFor } from '../helpers/net.ts'
import { startEzio } from '../helpers/swarm.ts'

const MiB = 1024 * 1024

interface Partition {
  name: string
  image: string
  size: number
  files: string[]
  /** partclone's image of it (partclone -c). */
  pcl: string
  torrent: string
}

// An ext4 partition image holding random files, partclone's image of it, and
// its torrent made as ocs-btsrv makes it: partclone -t writes torrent.info,
// Clonezilla's gen-torrent-from-ptcl turns it into NAME.torrent.
async function partition (dir: string, generator: string, name: string, size: number, tracker: string): Promise<Partition> {
  const image = await blankFile(path.join(dir, `${name}.img`), size)
  await execa('mkfs.ext4', ['-q', '-F', image])
  const files = await Promise.all([1, 2].map(i => randomImage(path.join(dir, `${name}-f${i}`), 3 * MiB + i * 7001)))
  for (const f of files) await execa('debugfs', ['-w', '-R', `write ${f} ${path.basename(f)}`, image])
  const pcl = `${image}.pcl`
  await execa('partclone.ext4', ['-c', '-q', '-s', image, '-o', pcl])
  const bt = path.join(dir, `bt-${name}`)
  await fs.mkdir(bt)
  await execa('partclone.ext4', ['-r', '-q', '-t', '-s', pcl, '-o', bt])
  const torrent = path.join(dir, `${name}.torrent`)
  await genTorrentFromPtcl(generator, path.join(bt, 'torrent.info'), name, torrent, tracker)
  return { name, image, size, files, pcl, torrent }
}

async function sameFiles (t: Test, target: string, p: Partition, dir: string): Promise<void> {
  const checked = await execa('e2fsck', ['-f', '-n', target], { reject: false })
  t.equal(checked.exitCode, 0, `e2fsck passes on ${target}`)
  for (const f of p.files) {
    const out = path.join(dir, `out-${path.basename(target)}-${path.basename(f)}`)
    await execa('debugfs', ['-R', `dump ${path.basename(f)} ${out}`, target])
    t.equal(await sha256(out), await sha256(f), `${path.basename(f)} is the same on ${path.basename(target)}`)
  }
}



// Clonezilla's BitTorrent mode with this ezio as its "ezio": torrents from
// Clonezilla's own generator, announcing to opentracker (Clonezilla's
// tracker, with its whitelist); the seeder and the machines run the command
// lines ocs-btsrv builds, and find each other through the tracker alone.
t.test('Clonezilla\'s form: ezio -U seeds two partitions, two machines ezio -t 1 clone both through opentracker', async t => {
  const dir = await tempDir(t)
  const generator = await clonezillaGenerator(t)
  const port = await freePort()
  const parts = [await partition(dir, generator, 'sda1', 48 * MiB, trackerUrl(port)), await partition(dir, generator, 'sda2', 32 * MiB, trackerUrl(port))]
  const metas = await Promise.all(parts.map(p => loadTorrent(p.torrent)))
  t.same(metas.map(m => m.announce), [[trackerUrl(port)], [trackerUrl(port)]], 'the torrents announce to the tracker')
  t.same(metas.map(m => m.pieceLength), [16 * MiB, 16 * MiB], 'Clonezilla\'s 16 MiB pieces')
  await startOpentracker(t, port, metas.map(m => m.infoHash))

  const pairs = parts.flatMap(p => ['-T', p.torrent, '-L', p.image])
  const seeder = startEzio(t, ['-U', ...pairs])
  await waitFor('the seeder to start', () => /^seeding .* on port \d+$/m.test(seeder.stderr()) || undefined, 60_000)

  const machines = await Promise.all([1, 2].map(async m => Promise.all(parts.map(p => randomImage(path.join(dir, `m${m}-${p.name}`), p.size)))))
  const runs = await Promise.all(machines.map(targets => ezio(['-t', '1', ...parts.flatMap((p, i) => ['-T', p.torrent, '-L', targets[i]!])], { timeout: 300_000 })))
  for (const [m, r] of runs.entries()) {
    t.equal(r.exitCode, 0, `machine ${m + 1} exits 0: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`)
    t.match(r.stderr, /^sda1: cloned [\d.]+ of [\d.]+ MB/m, 'a summary for sda1')
    t.match(r.stderr, /^sda2: cloned [\d.]+ of [\d.]+ MB/m, 'and for sda2')
    t.notOk(/[\r\u001b]/.test(r.stderr), 'in a pipe, lines: no carriage returns, no escapes')
  }
  for (const [m, targets] of machines.entries()) {
    for (const [i, p] of parts.entries()) {
      await sameFiles(t, targets[i]!, p, dir)
      t.equal((await ezio(['verify', p.torrent, targets[i]!])).exitCode, 0, `machine ${m + 1}'s ${p.name} verifies`)
    }
  }

  // A third machine whose second partition is too small: refused before its first is written.
  const first = await randomImage(path.join(dir, 'm3-sda1'), parts[0]!.size)
  const small = await randomImage(path.join(dir, 'm3-sda2'), 4 * MiB)
  const before = await sha256(first)
  const r = await ezio(['-t', '1', '-T', parts[0]!.torrent, '-L', first, '-T', parts[1]!.torrent, '-L', small])
  t.equal(r.exitCode, 6, r.stderr)
  t.match(r.stderr, /^ezio: sda2 \(.*m3-sda2\): target .* holds 4194304 bytes but the image ends at byte \d+/)
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line')
  t.equal(await sha256(first), before, 'its sda1 is untouched')
})

t.test('Clonezilla\'s form: ezio -U -f seeds from partclone\'s slice files', async t => {
  const dir = await tempDir(t)
  const generator = await clonezillaGenerator(t)
  const port = await freePort()
  const p = await partition(dir, generator, 'sda1', 40 * MiB, trackerUrl(port))
  await startOpentracker(t, port, [(await loadTorrent(p.torrent)).infoHash])
  // As ocs-btsrv keeps an image for seeding: BTZONE/IMAGE/sda1/<hex>, written by partclone -T.
  const zone = path.join(dir, 'btzone', 'myimg')
  await fs.mkdir(zone, { recursive: true })
  await execa('partclone.ext4', ['-r', '-q', '-T', '-s', p.pcl, '-o', path.join(zone, 'sda1')])
  const seeder = startEzio(t, ['-U', '-f', '-T', p.torrent, '-L', zone])
  await waitFor('the seeder to start', () => /^seeding .* on port \d+$/m.test(seeder.stderr()) || undefined, 60_000)
  const target = await randomImage(path.join(dir, 'target'), p.size)
  const r = await ezio(['-e', '0', '--cache', '524288', '-T', p.torrent, '-L', target], { timeout: 120_000 })
  t.equal(r.exitCode, 0, r.stderr)
  await sameFiles(t, target, p, dir)

  const usage = await ezio(['-f', '-T', p.torrent, '-L', target])
  t.equal(usage.exitCode, 2, 'a machine with -f: usage error')
  t.match(usage.stderr, /^ezio: -f \(slice files\) is for seeding with -U/)
  const odd = await ezio(['-T', p.torrent, '-Z'])
  t.equal(odd.exitCode, 2)
  t.match(odd.stderr, /^ezio: Unknown option '-Z'.*ezio -h\)$/m)
  t.match((await ezio(['-h'])).stdout, /--cache KiB/, 'ezio -h mentions --cache, as ocs-btsrv looks for')
})
