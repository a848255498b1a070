import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { BOOTED_FROM_DISK } from '../../lab/boot-sector.ts'
import { makeSampleDisk } from '../../lab/sample-disk.ts'
import type { Machine } from '../../server/machines.ts'
import type { ListedImage } from '../helpers/capture.ts'
import { ext4Dump, fsck, gptPartitions, sgdiskVerify } from '../helpers/disks.ts'
import { blankFile, sha256, tempDir } from '../helpers/files.ts'
import { freePort } from '../helpers/net.ts'
import { root } from '../helpers/paths.ts'
import { hostFromGuest, netbootFiles, startGuest } from '../helpers/qemu.ts'
import { startServe } from '../helpers/serve.ts'

t.setTimeout(1_500_000)

const MiB = 1024 * 1024
const marker = new RegExp(BOOTED_FROM_DISK)

t.test('a reference PC marked "capture as lab" PXE-boots, sends its disk to the store, reboots into its own disk; a blank PC then clones lab and boots it', async t => {
  await netbootFiles()
  const dir = await tempDir(t, 'ezio-capture-')
  const reference = path.join(dir, 'reference.disk')
  await makeSampleDisk(reference, 64, dir)
  const before = await sha256(reference)
  const port = await freePort()
  const btPort = await freePort()
  const srv = await startServe(t, '', path.join(dir, 'state'), ['--seed-idle', '0', '--countdown', '0'], { port, btPort, advertise: false })
  const guest = (disk: string, mac: string): Parameters<typeof startGuest>[1] =>
    ({ disk, mac, forward: [port, btPort], biosPxe: { bootUrl: `http://${hostFromGuest}:${port}/boot/boot.ipxe` }, reboots: true, timeoutSeconds: 1200 })
  const post = (route: string, body: unknown): Promise<Response> =>
    fetch(`${srv.url}${route}?token=${srv.operatorToken}`, { method: 'POST', body: JSON.stringify(body) })
  const artifacts = path.join(root, 'test/artifacts')
  await fs.mkdir(artifacts, { recursive: true })

  const refMac = '52:54:00:c4:00:01'
  t.equal((await post(`/api/machines/${refMac}/capture`, { image: 'lab' })).status, 200, 'the operator marks the reference PC before it boots')
  const a = await startGuest(t, guest(reference, refMac))
  t.teardown(() => fs.writeFile(path.join(artifacts, 'capture-reference.log'), a.console()))
  await a.waitFor(/ezio: capturing \/dev\/\S+ \(.*\) as image lab on http:\S+: its used blocks are read, nothing on it is changed/, 900_000)
  t.pass('its screen says which disk goes where, and that nothing on it changes')
  await a.waitFor(/captured \/dev\/\S+ as lab on \S+: [\d.]+ MB used/, 600_000)
  await a.waitFor(marker, 300_000)
  t.pass(`it rebooted, PXE-booted again and the server sent it to its own disk: "${BOOTED_FROM_DISK}"`)
  a.qemu.kill('SIGTERM')
  await a.exited
  t.equal(await sha256(reference), before, 'its disk is unchanged')
  const stored = (await srv.json<ListedImage[]>('/api/images')).find(i => i.name === 'lab')
  t.ok(stored?.stored, 'lab is in the image store')
  t.match((await srv.json<Machine[]>('/api/machines')).find(m => m.id === refMac), { state: 'done', capture: null, holds: stored?.infoHash }, 'the reference PC is listed as holding lab')

  const pcMac = '52:54:00:c4:00:02'
  const pc = await blankFile(path.join(dir, 'pc.disk'), 96 * MiB)
  t.equal((await post(`/api/machines/${pcMac}/image`, { image: 'lab' })).status, 200, 'a blank PC is given lab')
  const b = await startGuest(t, guest(pc, pcMac))
  t.teardown(() => fs.writeFile(path.join(artifacts, 'capture-clone.log'), b.console()))
  await b.waitFor(/ezio: done: rebooting/, 900_000)
  await b.waitFor(marker, 300_000)
  t.pass('it cloned lab and boots it')
  b.qemu.kill('SIGTERM')
  await b.exited
  const verify = await sgdiskVerify(pc)
  t.ok(verify.clean, `its GPT is valid on the bigger disk: ${verify.output.trim().split('\n').at(-1)}`)
  const [part] = await gptPartitions(pc)
  t.equal((await fsck(t, pc, part!, 'ext4')).exitCode, 0, 'its ext4 is clean')
  const out = path.join(dir, 'out')
  const ref = path.join(dir, 'ref')
  for (const d of [out, ref]) await fs.mkdir(path.join(d, 'etc'), { recursive: true })
  await ext4Dump(t, pc, part!, ['etc/motd'], out)
  await ext4Dump(t, reference, (await gptPartitions(reference))[0]!, ['etc/motd'], ref)
  t.equal(await fs.readFile(path.join(out, 'etc/motd'), 'utf8'), await fs.readFile(path.join(ref, 'etc/motd'), 'utf8'), 'and holds the reference PC\'s files')
})
