import { execa } from 'execa'
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { referenceDisk, type ListedCapture, type ListedImage } from '../helpers/capture.ts'
import { frameHeader } from '../../protocol/capture.ts'
import { ezio } from '../helpers/ezio.ts'
import { randomImage, tempDir } from '../helpers/files.ts'
import { withLoopDevice } from '../helpers/loop.ts'
import { waitFor } from '../helpers/net.ts'
import { startServe, type Served } from '../helpers/serve.ts'
import { startEzio } from '../helpers/swarm.ts'

const MiB = 1024 * 1024

function capture (srv: Served, source: string, name: string, more: string[] = []): ReturnType<typeof ezio> {
  return ezio(['capture', source, srv.url, '--name', name, '--token', srv.operatorToken, ...more], { timeout: 300_000 })
}

async function begin (srv: Served, body: unknown, token = srv.operatorToken): Promise<Response> {
  return fetch(`${srv.url}/api/captures?token=${token}`, { method: 'POST', body: JSON.stringify(body) })
}

const lastLine = (s: string): string => s.trim().split('\n').at(-1) ?? ''

t.test('refused before anything is sent: bad token, bad name, a name in use, a mounted disk, an unclean filesystem, a full store; garbage lists nothing', async t => {
  const dir = await tempDir(t)
  const ref = await referenceDisk(t, dir, { files: 2, fileMiB: 4 })
  const base = await randomImage(path.join(dir, 'base.img'), 4 * MiB)
  const srv = await startServe(t, '', path.join(dir, 'state'), ['--image', `base=${base}`])

  const badToken = await ezio(['capture', ref.disk, srv.url, '--name', 'lab', '--token', 'nope'])
  t.equal(badToken.exitCode, 13, 'a bad token: refused by the server')
  t.match(lastLine(badToken.stderr), /^ezio: the server refuses the capture: bad or missing operator token/)
  const badName = await capture(srv, ref.disk, 'lab/../x')
  t.equal(badName.exitCode, 2, `a bad name is a usage error: ${lastLine(badName.stderr)}`)
  const raw = await begin(srv, { name: '../etc', replace: false, usedBytes: 1, diskSize: 1, pieceLength: 262144 })
  t.equal(raw.status, 400, 'and the server refuses it too')
  t.match(await raw.text(), /is no image name/)
  const clash = await capture(srv, ref.disk, 'base')
  t.equal(clash.exitCode, 13, 'the name of a command-line image')
  t.match(lastLine(clash.stderr), /base is an image of ezio serve's command line/)

  t.equal((await capture(srv, ref.disk, 'lab')).exitCode, 0, 'a first capture of lab')
  const first = (await srv.json<ListedImage[]>('/api/images')).find(i => i.name === 'lab')
  const taken = await capture(srv, ref.disk, 'lab')
  t.equal(taken.exitCode, 13, 'lab again, without --replace')
  t.match(lastLine(taken.stderr), /holds an image named lab already: capture with --replace/)
  // A changed reference disk, captured over the old name.
  const extra = path.join(dir, 'extra')
  await fs.writeFile(extra, randomBytes(MiB))
  await withLoopDevice(t, ref.disk, { offset: ref.part.offset, sizelimit: ref.part.size }, dev => execa('debugfs', ['-w', '-R', `write ${extra} extra`, dev]))
  const replaced = await capture(srv, ref.disk, 'lab', ['--replace'])
  t.equal(replaced.exitCode, 0, replaced.stderr)
  const listed = await srv.json<ListedImage[]>('/api/images')
  t.equal(listed.filter(i => i.name === 'lab').length, 1, 'one image named lab')
  t.not(listed.find(i => i.name === 'lab')?.infoHash, first?.infoHash, 'and it is the new capture')
  const same = await capture(srv, ref.disk, 'lab', ['--replace'])
  t.equal(same.exitCode, 0, `the same disk again over its own capture: ${lastLine(same.stderr)}`)
  t.equal((await srv.json<ListedImage[]>('/api/images')).find(i => i.name === 'lab')?.infoHash, listed.find(i => i.name === 'lab')?.infoHash, 'the same image, still listed once')
  const announced = await fetch(`${srv.url}/announce?info_hash=${first!.infoHash.replace(/../g, '%$&')}&peer_id=-EZ0001-000000000000&port=6999&uploaded=0&downloaded=0&left=1&compact=1`)
  t.notMatch(Buffer.from(await announced.arrayBuffer()).toString('latin1'), /failure reason/, 'the old one is still tracked (and seeded) for machines mid-clone of it')

  // Mounted: a partition of the disk is mounted through a loop device.
  const mnt = path.join(dir, 'mnt')
  await fs.mkdir(mnt)
  await withLoopDevice(t, ref.disk, { offset: ref.part.offset, sizelimit: ref.part.size }, async dev => {
    await execa('mount', ['-o', 'ro', dev, mnt])
    try {
      const mounted = await capture(srv, ref.disk, 'lab2')
      t.equal(mounted.exitCode, 19, 'a mounted disk: exit 19')
      t.match(lastLine(mounted.stderr), /is in use \(mounted at .*mnt\): .*shut the reference machine down cleanly/)
    } finally {
      await execa('umount', [mnt])
    }
  })
  // Not cleanly unmounted: the superblock says so, and partclone will not map it.
  const dirty = path.join(dir, 'dirty.img')
  await fs.copyFile(ref.disk, dirty)
  await withLoopDevice(t, dirty, { offset: ref.part.offset, sizelimit: ref.part.size }, dev => execa('debugfs', ['-w', '-R', 'ssv state 0', dev]))
  const unclean = await capture(srv, dirty, 'lab2')
  t.equal(unclean.exitCode, 19, 'an unclean filesystem: exit 19')
  t.match(lastLine(unclean.stderr), /ext4 filesystem on partition 1 of .* cannot be mapped \(partclone: FS was not cleanly unmounted\): shut the reference machine down cleanly/)

  // Garbage in the upload: refused, nothing listed, said on the list of captures.
  const ok = await begin(srv, { name: 'junk', replace: false, usedBytes: MiB, diskSize: MiB, pieceLength: 262144 })
  t.equal(ok.status, 201)
  const { upload } = await ok.json() as { upload: string }
  const put = await fetch(`${srv.url}${upload}?token=${srv.operatorToken}`, { method: 'PUT', body: Buffer.from('GET / HTTP/1.1\r\n') })
  t.equal(put.status, 400, 'garbage is refused')
  t.match(await put.text(), /the capture of junk was refused .*: a frame of unknown kind \d+; nothing was listed/)
  t.notOk((await srv.json<ListedImage[]>('/api/images')).some(i => i.name === 'junk'), 'nothing is listed')
  t.match((await srv.json<ListedCapture[]>('/api/captures')).find(c => c.name === 'junk'), { state: 'failed', error: /a frame of unknown kind/ })
  t.same(await fs.readdir(path.join(dir, 'state', 'images', 'incoming')), [], 'and nothing is left in the store')

  // More than the room asked for: refused once it passes it (usedBytes + 64 MiB).
  const small = await begin(srv, { name: 'big', replace: false, usedBytes: 1, diskSize: MiB, pieceLength: 16 * MiB })
  const { upload: bigUpload } = await small.json() as { upload: string }
  const piece = Buffer.alloc(16 * MiB)
  const frames = Array.from({ length: 5 }, (_, i) => [frameHeader(1, piece.length, (i + 1) * piece.length), piece]).flat()
  const over = await fetch(`${srv.url}${bigUpload}?token=${srv.operatorToken}`, { method: 'PUT', body: Buffer.concat(frames) }).catch((err: Error) => err)
  t.notOk(over instanceof Response && over.ok, 'an upload past its room is not stored')
  t.match((await srv.json<ListedCapture[]>('/api/captures')).find(c => c.name === 'big'), { state: 'failed', error: /grew past the \d+ bytes the capture asked room for/ })
})

t.test('a store without room for the used blocks is refused before the disk is read (507)', async t => {
  const dir = await tempDir(t)
  const ref = await referenceDisk(t, dir, { files: 2, fileMiB: 4 })
  const small = path.join(dir, 'small')
  await fs.mkdir(small)
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', small])
  t.teardown(() => execa('umount', ['-l', small], { reject: false }))
  const srv = await startServe(t, '', path.join(dir, 'state'), ['--images', small])
  const full = await capture(srv, ref.disk, 'lab')
  t.equal(full.exitCode, 13, 'refused by the server')
  t.match(lastLine(full.stderr), /the image store .*small has [\d.]+ MB free, and this capture needs up to [\d.]+ MB: free space there/)
  t.same((await fs.readdir(small)).sort(), ['incoming', 'payloads'], 'nothing was written to the store')
})

t.test('interrupted captures leave no image: the client killed half-way, the server restarted half-way; then the same name captures', async t => {
  const dir = await tempDir(t)
  // Big enough to be caught half-way: compressing it takes a few seconds.
  const ref = await referenceDisk(t, dir, { diskMiB: 448, partMiB: 400, files: 4, fileMiB: 64 })
  const state = path.join(dir, 'state')
  let srv = await startServe(t, '', state)
  const halfWay = async (what: string): Promise<ListedCapture> => waitFor(`the capture to be ${what}`, async () => {
    const c = (await srv.json<ListedCapture[]>('/api/captures'))[0]
    return c?.state === 'receiving' && c.rawDone > c.usedBytes / 4 ? c : undefined
  }, 120_000, 20)

  const killed = startEzio(t, ['capture', ref.disk, srv.url, '--name', 'lab', '--token', srv.operatorToken])
  const seen = await halfWay('under way')
  killed.proc.kill('SIGKILL')
  await killed.exited
  const failed = await waitFor('the capture to be marked failed', async () => (await srv.json<ListedCapture[]>('/api/captures')).find(c => c.state === 'failed'), 30_000)
  t.ok(seen.rawDone < seen.usedBytes, `killed part-way (${seen.rawDone} of ${seen.usedBytes} bytes in)`)
  t.match(failed.error, /^the capture of lab broke off after [\d.]+ MB of [\d.]+ MB used .*: nothing was listed; capture again$/, 'the dashboard says why')
  t.same(await srv.json<ListedImage[]>('/api/images'), [], 'no image is listed')

  const cut = startEzio(t, ['capture', ref.disk, srv.url, '--name', 'lab', '--token', srv.operatorToken])
  await halfWay('under way again')
  srv.proc.kill('SIGKILL')
  await srv.exited
  const cutEnd = await cut.exited
  t.not(cutEnd.exitCode, 0, 'the client fails when its server goes')
  t.match(lastLine(cut.stderr()), /^ezio: the upload to the server broke off .*nothing was stored; capture again$/)
  srv = await startServe(t, '', state)
  t.same(await srv.json<ListedImage[]>('/api/images'), [], 'restarted, the server lists nothing')
  t.match((await srv.json<ListedCapture[]>('/api/captures'))[0], { name: 'lab', state: 'failed', error: /ezio serve stopped while this capture was being received/ })
  t.same(await fs.readdir(path.join(state, 'images', 'incoming')), [], 'and has dropped what it had received')

  const again = await ezio(['capture', ref.disk, srv.url, '--name', 'lab', '--token', srv.operatorToken], { timeout: 300_000 })
  t.equal(again.exitCode, 0, again.stderr)
  t.match(await srv.json<ListedImage[]>('/api/images'), [{ name: 'lab', stored: true }], 'a second capture of the same name succeeds')
})
