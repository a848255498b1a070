import { execa } from 'execa'
import path from 'node:path'
import t from 'tap'
import { ezio } from '../../helpers/ezio.ts'
import { compressibleImage, randomImage, sha256, tempDir } from '../../helpers/files.ts'
import { freePort } from '../../helpers/net.ts'
import { startSeeder } from '../../helpers/swarm.ts'
import { startTracker } from '../../helpers/tracker.ts'

const SIZE = 64 * 1024 * 1024

async function aria2 (torrent: string, out: string): Promise<{ exitCode: number, output: string }> {
  const r = await execa('aria2c', [
    `--dir=${out}`, '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
    '--seed-time=0', '--file-allocation=none', '--summary-interval=0', '--console-log-level=warn',
    `--listen-port=${await freePort()}`, '--bt-stop-timeout=60', torrent
  ], { reject: false, timeout: 90_000, stdin: 'ignore' })
  return { exitCode: r.exitCode ?? -1, output: `${r.stdout}\n${r.stderr}` }
}

t.test('aria2 finds ezio seed through a tracker and downloads a torrent made by ezio create', async t => {
  const dir = await tempDir(t)
  const tracker = await startTracker(t)
  const image = await randomImage(path.join(dir, 'image.raw'), SIZE)
  const torrent = path.join(dir, 'image.torrent')
  t.equal((await ezio(['create', image, '-o', torrent, '--tracker', tracker.announce, '--quiet'])).exitCode, 0)
  await startSeeder(t, torrent, image)
  const out = path.join(dir, 'aria2')
  const r = await aria2(torrent, out)
  t.equal(r.exitCode, 0, 'aria2c ends well', { output: r.output })
  t.equal(await sha256(path.join(out, 'image.raw')), await sha256(image), 'what aria2 wrote is the image')
})

t.test('aria2 downloads a compressed torrent as its one payload file, pieces re-made by ezio seed from the image', async t => {
  const dir = await tempDir(t)
  const tracker = await startTracker(t)
  const image = await compressibleImage(path.join(dir, 'image.raw'), 32 * 1024 * 1024)
  const torrent = path.join(dir, 'image.torrent')
  const payload = path.join(dir, 'image.payload')
  t.equal((await ezio(['create', image, '-o', torrent, '--compress', '--payload', payload, '--tracker', tracker.announce, '--quiet'])).exitCode, 0)
  await startSeeder(t, torrent, image)
  const out = path.join(dir, 'aria2')
  const r = await aria2(torrent, out)
  t.equal(r.exitCode, 0, 'aria2c ends well', { output: r.output })
  t.equal(await sha256(path.join(out, 'image.raw', 'image.raw.ezio-zstd')), await sha256(payload), 'what aria2 wrote is the payload ezio create wrote')
})
