import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { referenceDisk, type ListedImage } from '../helpers/capture.ts'
import { ext4Dump, fsck, sgdiskVerify } from '../helpers/disks.ts'
import { ezio } from '../helpers/ezio.ts'
import { randomImage, sha256, tempDir } from '../helpers/files.ts'
import { loopDevice } from '../helpers/loop.ts'
import { startServe } from '../helpers/serve.ts'

const MiB = 1024 * 1024

// The whole path: a reference disk (a loop device) into a server that
// starts with an empty store, then two machines clone it onto bigger disks
// full of garbage. Nothing but the capture put the image on the server.
t.test('ezio capture of a GPT disk into an empty store; two machines clone it onto bigger garbage disks: valid GPT, clean fsck, same files', async t => {
  const dir = await tempDir(t)
  const ref = await referenceDisk(t, dir)
  const device = await loopDevice(t, ref.disk)
  const srv = await startServe(t, '', path.join(dir, 'state'), ['--seed-ratio', '0'])
  t.match(srv.startLine(), /^ezio serve: no image yet \(capture one into .*state\/images\) — dashboard /, 'an empty store starts, and says so')
  const early = await fetch(`${srv.url}/ezio.json`)
  t.equal(early.status, 503, '/ezio.json says wait until there is an image')
  t.match(await early.text(), /no image yet/)

  const captured = await ezio(['capture', device, srv.url, '--name', 'lab-2026', '--token', srv.operatorToken], { timeout: 300_000 })
  t.equal(captured.exitCode, 0, captured.stderr)
  t.match(captured.stderr, /^part1 +ext4, .* \(partclone\)$/m, 'the used blocks come from partclone')
  t.match(captured.stderr, /^captured .* as lab-2026 on http:\/\/127\.0\.0\.1:\d+: [\d.]+ MB used, [\d.]+ MB sent in /m)
  const images = await srv.json<ListedImage[]>('/api/images')
  t.match(images, [{ name: 'lab-2026', stored: true, default: true }], 'the capture is listed, and is the default as the first image')
  const torrent = path.join(dir, 'lab.torrent')
  await fs.writeFile(torrent, Buffer.from(await (await fetch(`${srv.url}/lab-2026.torrent`)).arrayBuffer()))

  const targets = await Promise.all([1, 2].map(async i => {
    const file = await randomImage(path.join(dir, `pc${i}.disk`), 384 * MiB)
    return { file, dev: await loopDevice(t, file) }
  }))
  const boots = await Promise.all(targets.map((target, i) => ezio(['boot', srv.url, '--target', target.dev, '--id', `52:54:00:cc:00:0${i + 1}`, '--countdown', '0'], { timeout: 300_000 })))
  for (const [i, b] of boots.entries()) t.equal(b.exitCode, 0, `machine ${i + 1} clones the capture: ${b.stderr.split('\n').slice(-3).join(' / ')}`)
  for (const [i, target] of targets.entries()) {
    t.ok((await sgdiskVerify(target.file)).clean, `machine ${i + 1}: the GPT is valid for its bigger disk`)
    const r = await fsck(t, target.file, ref.part, 'ext4')
    t.equal(r.exitCode, 0, `machine ${i + 1}: fsck is clean: ${r.output}`)
    const out = path.join(dir, `out${i}`)
    await fs.mkdir(out)
    await ext4Dump(t, target.file, ref.part, ref.files.map(f => path.basename(f)), out)
    for (const f of ref.files) t.equal(await sha256(path.join(out, path.basename(f))), await sha256(f), `machine ${i + 1}: ${path.basename(f)} is the same`)
    t.equal((await ezio(['verify', torrent, target.dev])).exitCode, 0, `machine ${i + 1}: ezio verify passes`)
  }

  // The store outlives the server: a restart lists the capture again, without hashing anything.
  srv.proc.kill('SIGTERM')
  await srv.exited
  const again = await startServe(t, '', path.join(dir, 'state'))
  t.match(again.startLine(), /^ezio serve: lab-2026 \(\d+ MB\) — /, 'restarted, the server deploys the stored capture')
  t.match(await again.json<ListedImage[]>('/api/images'), [{ name: 'lab-2026', infoHash: images[0]!.infoHash }])
})
