import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { loadTorrent } from '../../engine/torrent/load.ts'
import { clonezillaGenerator, clonezillaPackage, genTorrentFromPtcl, startOpentracker, trackerUrl } from '../helpers/clonezilla.ts'
import { ezio } from '../helpers/ezio.ts'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { freePort, waitFor } from '../helpers/net.ts'
import { executable } from '../helpers/paths.ts'
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

// An ext4 partition image holding random files, and partclone's image of it.
async function ext4Partition (dir: string, name: string, size: number): Promise<Omit<Partition, 'torrent'>> {
  const image = await blankFile(path.join(dir, `${name}.img`), size)
  await execa('mkfs.ext4', ['-q', '-F', image])
  const files = await Promise.all([1, 2].map(i => randomImage(path.join(dir, `${name}-f${i}`), 3 * MiB + i * 7001)))
  for (const f of files) await execa('debugfs', ['-w', '-R', `write ${f} ${path.basename(f)}`, image])
  const pcl = `${image}.pcl`
  await execa('partclone.ext4', ['-c', '-q', '-s', image, '-o', pcl])
  return { name, image, size, files, pcl }
}

// The partition and its torrent made as ocs-btsrv makes it: partclone -t
// writes torrent.info, Clonezilla's gen-torrent-from-ptcl turns it into NAME.torrent.
async function partition (dir: string, generator: string, name: string, size: number, tracker: string): Promise<Partition> {
  const p = await ext4Partition(dir, name, size)
  const bt = path.join(dir, `bt-${name}`)
  await fs.mkdir(bt)
  await execa('partclone.ext4', ['-r', '-q', '-t', '-s', p.pcl, '-o', bt])
  const torrent = path.join(dir, `${name}.torrent`)
  await genTorrentFromPtcl(generator, path.join(bt, 'torrent.info'), name, torrent, tracker)
  return { ...p, torrent }
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

// Debian 12's ocs-btsrv itself, from the unpacked clonezilla and drbl
// packages, with this ezio first on its PATH: it makes the torrent with
// gen-torrent-from-ptcl, starts opentracker and runs `ezio -U -f --cache N`
// on the image's slice files; a machine then clones with the command line
// ocs-btsrv -l builds (onto a file here: -l writes /dev/sda1). It runs in
// namespaces of its own: its mounts (/etc/drbl and /var/log laid over the
// system's, nothing of the system changed), its network (loopback only:
// ocs-btsrv's tracker listens on every interface, port 6969) and its
// processes (its background tracker and seeder end with it).
t.test('Clonezilla\'s ocs-btsrv seeds with this ezio; a machine clones with ocs-btsrv\'s command line', async t => {
  const dir = await tempDir(t)
  const unpacked = await clonezillaPackage(t)
  const generator = await clonezillaGenerator(t, unpacked)
  const p = await ext4Partition(dir, 'sda1', 40 * MiB)
  // An image kept for seeding, as ocs-btsrv expects it: BTZONE/IMAGE/sda1/<hex> (partclone -T) and BTZONE/IMAGE/sda1.torrent.info.
  const zone = path.join(dir, 'btzone')
  const img = path.join(zone, 'myimg')
  await fs.mkdir(img, { recursive: true })
  await execa('partclone.ext4', ['-r', '-q', '-T', '-s', p.pcl, '-o', path.join(img, 'sda1')])
  await fs.rename(path.join(img, 'sda1', 'torrent.info'), path.join(img, 'sda1.torrent.info'))
  // ocs-btsrv starts opentracker chrooted into the image's directory with
  // -w /etc/opentracker/whitelist.txt, a file nothing writes; Debian's
  // opentracker is built with whitelists and refuses every torrent without
  // one. The whitelist ocs-btsrv's own torrent needs is put there first.
  const announce = 'http://127.0.0.1:6969/announce'
  await genTorrentFromPtcl(generator, path.join(img, 'sda1.torrent.info'), 'sda1', path.join(dir, 'same.torrent'), announce)
  await fs.mkdir(path.join(img, 'etc/opentracker'), { recursive: true, mode: 0o755 })
  await fs.writeFile(path.join(img, 'etc/opentracker/whitelist.txt'), (await loadTorrent(path.join(dir, 'same.torrent'))).infoHash + '\n', { mode: 0o644 })
  const bin = path.join(dir, 'bin')
  await fs.mkdir(bin)
  await fs.symlink(executable, path.join(bin, 'ezio'))
  for (const d of ['up/etc', 'up/log', 'work/etc', 'work/log']) await fs.mkdir(path.join(dir, d), { recursive: true })
  const target = await randomImage(path.join(dir, 'target'), p.size)
  const script = [
    'set -eu',
    'ip link set lo up',
    `mount -t overlay overlay -o lowerdir=${unpacked}/etc:/etc,upperdir=${dir}/up/etc,workdir=${dir}/work/etc /etc`,
    `mount -t overlay overlay -o lowerdir=/var/log,upperdir=${dir}/up/log,workdir=${dir}/work/log /var/log`,
    'mkdir -p /var/log/clonezilla',
    `export DRBL_SCRIPT_PATH=${unpacked}/usr/share/drbl PATH=${bin}:${unpacked}/usr/sbin:${unpacked}/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    `timeout 60 ocs-btsrv -p 127.0.0.1 -r ${zone} -t ezio start myimg sda1`,
    'for i in $(seq 120); do grep -q "^seeding " /var/log/ezio-seeding.log 2>/dev/null && break; sleep 0.5; done',
    `rc=0; timeout 120 ezio -t 1 -T ${img}/sda1.torrent -L ${target} >${dir}/leecher.log 2>&1 || rc=$?`,
    `ocs-btsrv -r ${zone} stop myimg sda1`,
    'cat /var/log/ezio-seeding.log',
    'exit $rc'
  ].join('\n')
  // A pid namespace too: whatever ocs-btsrv leaves running ends with the script.
  const r = await execa('unshare', ['-m', '-n', '-p', '--fork', '--mount-proc', '--propagation', 'private', 'bash', '-c', script], { reject: false, all: true, timeout: 240_000 })
  t.equal(r.exitCode, 0, r.all?.split('\n').slice(-8).join(' / '))
  t.match(r.all, /^Start tracker by:\nopentracker -p 6969 /m, 'ocs-btsrv started its tracker')
  t.match(r.all, /^ezio -U -f --cache \d+ -T \S+\/sda1\.torrent -L \S+\/myimg /m, 'and this ezio as its seeder, --cache added since ezio -h mentions it')
  t.match(r.all, /^seeding \S+sda1\.torrent from \S+myimg on port \d+$/m, 'which seeded')
  t.match(await fs.readFile(path.join(dir, 'leecher.log'), 'utf8'), /^sda1: cloned [\d.]+ of [\d.]+ MB/m, 'the machine cloned')
  await sameFiles(t, target, { ...p, torrent: path.join(img, 'sda1.torrent') }, dir)
})
