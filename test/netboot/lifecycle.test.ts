import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { noteBootTime } from '../helpers/boot-times.ts'
import { BOOTED_FROM_DISK } from '../../lab/boot-sector.ts'
import { makeSampleDisk } from '../../lab/sample-disk.ts'
import type { Machine } from '../../server/machines.ts'
import { blankFile, sha256, tempDir } from '../helpers/files.ts'
import { root } from '../helpers/paths.ts'
import { freePort } from '../helpers/net.ts'
import { hostFromGuest, netbootFiles, startGuest } from '../helpers/qemu.ts'
import { startServe } from '../helpers/serve.ts'

t.setTimeout(1_500_000)

const SIZE_MIB = 64
const marker = new RegExp(BOOTED_FROM_DISK)
const count = (text: string, pattern: RegExp): number => text.match(new RegExp(pattern.source, 'g'))?.length ?? 0

t.test('a PC whose boot order is network, then disk: it clones, reboots, PXE-boots again and boots its disk; re-imaged, it clones again', async t => {
  await netbootFiles()
  const dir = await tempDir(t, 'ezio-lifecycle-')
  const image = path.join(dir, 'lab-disk.img')
  await makeSampleDisk(image, SIZE_MIB, dir)
  const disk = await blankFile(path.join(dir, 'pc.disk'), SIZE_MIB * 1024 * 1024)
  const port = await freePort()
  const btPort = await freePort()
  const srv = await startServe(t, image, path.join(dir, 'state'), ['--seed-idle', '0', '--countdown', '0'], { port, btPort, advertise: false })
  const mac = '52:54:00:e2:10:0c'
  const pc = { disk, mac, forward: [port, btPort], biosPxe: { bootUrl: `http://${hostFromGuest}:${port}/boot/boot.ipxe` }, reboots: true, timeoutSeconds: 1200 }

  // The serial consoles are kept for a person to read (test/artifacts/).
  const artifacts = path.join(root, 'test/artifacts')
  await fs.mkdir(artifacts, { recursive: true })
  const first = await startGuest(t, pc)
  t.teardown(() => fs.writeFile(path.join(artifacts, 'lifecycle-boot-1.log'), first.console()))
  const clientMs = await first.waitFor(/ezio: starting the client/, 600_000)
  await noteBootTime('BIOS PXE (SeaBIOS, iPXE ROM, HTTP)', clientMs)
  await first.waitFor(/ezio: done: rebooting/, 600_000)
  await first.waitFor(marker, 300_000)
  const log = first.console()
  t.equal(count(log, /ezio: starting the client/), 1, 'it ran the appliance once')
  t.ok(log.indexOf(BOOTED_FROM_DISK) > log.indexOf('ezio: done: rebooting'), `after its reboot it PXE-booted again and the server sent it to its disk: "${BOOTED_FROM_DISK}"`)
  t.equal(await sha256(disk), await sha256(image), 'its disk holds the image')
  const done = (await srv.json<Machine[]>('/api/machines')).find(m => m.id === mac)
  t.match(done, { state: 'done' }, 'the server lists it as done')
  first.qemu.kill('SIGTERM')
  await first.exited

  const res = await fetch(`${srv.url}/api/machines/${mac}/reimage?token=${srv.operatorToken}`, { method: 'POST' })
  t.equal(res.status, 200, 're-imaged through the API')
  const second = await startGuest(t, pc)
  t.teardown(() => fs.writeFile(path.join(artifacts, 'lifecycle-boot-2.log'), second.console()))
  await second.waitFor(/ezio: starting the client/, 600_000)
  t.pass('its next boot runs the appliance again')
  await second.waitFor(/ezio: done: rebooting/, 600_000)
  t.match(second.console(), /reused from the target/, 'and clones, keeping what its disk already holds')
  await second.waitFor(marker, 300_000)
  t.pass('then boots its disk again')
  t.equal(await sha256(disk), await sha256(image))
  second.qemu.kill('SIGTERM')
  await second.exited

  // A boot path the server cannot steer per machine (pxelinux, the admin's
  // own TFTP server): the appliance boots, is told the machine is done, and
  // powers off rather than cloning again.
  const direct = await startGuest(t, { disk, mac, forward: [port, btPort], append: `ezio.server=http://${hostFromGuest}:${port} ezio.countdown=0`, timeoutSeconds: 600 })
  t.teardown(() => fs.writeFile(path.join(artifacts, 'lifecycle-boot-3.log'), direct.console()))
  const end = await direct.exited
  t.equal(end.exitCode, 0, 'the guest powered itself off')
  t.match(direct.console(), /ezio: this machine \(52:54:00:e2:10:0c\) already holds lab-disk, complete/, 'it says on its console that its disk already holds its image')
  t.match(direct.console(), /ezio: the server says this disk already holds its image .*: powering off/)
  t.notMatch(direct.console(), /ALL DATA ON/, 'no erase warning, nothing written')
  t.equal(await sha256(disk), await sha256(image))
})
