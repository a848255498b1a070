import t from 'tap'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Machine } from '../../server/machines.ts'
import { ezio } from '../helpers/ezio.ts'
import { sha256 } from '../helpers/files.ts'
import { waitFor } from '../helpers/net.ts'
import { room, SIZE } from '../helpers/netboot-room.ts'

t.setTimeout(1_200_000)

// The seeder's pace and the disk's are set so that each moment lasts
// seconds: a clone of about 20 s, a disk that writes 8 MB/s, whose final
// flush then takes a few seconds with the last pieces in the page cache.
const UPLOAD_MBPS = '3'
const DISK_WRITE_BPS = 8e6

t.test('power cuts (SIGKILL to QEMU) early, half-way and during the final flush: each boot after goes on, the last ends with a disk that verifies, fetching at most what was not on it', async t => {
  const r = await room(t)
  const srv = await r.serve(['--upload-limit', UPLOAD_MBPS])
  const mac = '52:54:00:e2:30:01'
  const torrent = path.join(r.dir, 'lab.torrent')
  await fs.writeFile(torrent, Buffer.from(await (await fetch(`${srv.url}/ezio.torrent`)).arrayBuffer()))
  const machine = async (): Promise<Machine | undefined> => (await srv.json<Machine[]>('/api/machines')).find(m => m.id === mac)
  const badPieces = async (): Promise<{ pieces: number, bad: number[] }> => JSON.parse((await ezio(['verify', torrent, r.disk, '--json'])).stdout) as { pieces: number, bad: number[] }
  const boot = (): ReturnType<typeof r.boot> => r.boot({ mac, append: `ezio.server=${r.server()} ezio.countdown=0`, diskWriteBps: DISK_WRITE_BPS })

  const cuts: Array<[string, (m: Machine) => boolean]> = [
    ['early', m => m.state === 'cloning' && m.bytesDone > 0],
    ['half-way', m => m.state === 'cloning' && m.bytesDone >= SIZE / 2],
    ['during the final flush', m => m.state === 'cloning' && m.bytesDone === SIZE]
  ]
  let missing = Infinity
  for (const [when, now] of cuts) {
    const guest = await boot()
    // A fresh boot's first report says booting, then cloning from zero.
    await waitFor(`a fresh clone, then the moment to cut: ${when}`, async () => {
      const m = await machine()
      return m && guest.console().includes('ezio: starting the client') && now(m) ? m : undefined
    }, 400_000, 150)
    await guest.powerCut()
    const { pieces, bad } = await badPieces()
    // What the guest's page cache held is lost: early on, that can be every piece.
    t.ok(bad.length > 0, `cut ${when}: ${pieces - bad.length} of ${pieces} pieces on the disk, ${bad.length} missing or torn`)
    missing = bad.length
  }

  const guest = await boot()
  const end = await guest.exited
  t.equal(end.exitCode, 0, `the boot after the last cut finishes and reboots (${(end.ms / 1000).toFixed(1)} s)`)
  const { pieces, bad } = await badPieces()
  t.same(bad, [], 'ezio verify: every piece is good')
  t.equal(await sha256(r.disk, SIZE), await sha256(r.image), 'the disk holds the image')
  const m = await machine()
  t.equal(m?.state, 'done', 'the server lists it done')
  const fetched = (m?.fromSeeder ?? 0) + (m?.fromPeers ?? 0)
  t.ok(fetched <= missing * (SIZE / pieces), `the last boot fetched ${fetched} bytes: at most the ${missing} pieces not on the disk (${missing * SIZE / pieces} bytes)`)
})
