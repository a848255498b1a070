import t from 'tap'
import path from 'node:path'
import { blankFile, randomImage, sha256, tempDir } from '../helpers/files.ts'
import { freePort } from '../helpers/net.ts'
import { GUEST_SECONDS, SIZE } from '../helpers/netboot-room.ts'
import { hostFromGuest, netbootFiles, startGuest } from '../helpers/qemu.ts'
import { startServe } from '../helpers/serve.ts'
import { servedInitrd } from '../helpers/served-key.ts'

t.setTimeout(900_000)

t.test('two servers on one segment: a guest booted from A\'s initrd refuses B\'s config and says why; booted from B\'s, it clones B\'s image', async t => {
  await netbootFiles()
  const dir = await tempDir(t, 'ezio-netboot-')
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  const [portA, btA, portB, btB] = ports as [number, number, number, number]
  const imageB = await randomImage(path.join(dir, 'b.img'), SIZE)
  const a = await startServe(t, await randomImage(path.join(dir, 'a.img'), SIZE), path.join(dir, 'state-a'), ['--seed-idle', '0'], { port: portA, btPort: btA, advertise: false })
  await startServe(t, imageB, path.join(dir, 'state-b'), ['--seed-idle', '0'], { port: portB, btPort: btB, advertise: false })
  const b = `http://127.0.0.1:${portB}`
  const disk = await blankFile(path.join(dir, 'guest.disk'), SIZE)
  const blank = await sha256(disk)
  const boot = async (initrd: string, mac: string): ReturnType<typeof startGuest> => startGuest(t, {
    disk, initrd, mac, forward: ports, timeoutSeconds: GUEST_SECONDS, append: `ezio.server=http://${hostFromGuest}:${portB} ezio.countdown=0`
  })

  const fromA = await boot((await servedInitrd(a.url, path.join(dir, 'from-a'))).initrd, '52:54:00:e2:20:01')
  await fromA.waitFor(/ezio# /, 400_000)
  t.match(fromA.console(), /ezio: \S+ sent a config not signed by this machine's server; this machine booted from ezio serve on \S+, key SHA256:\S+: refusing it/, 'ezio boot says which server it expected')
  t.match(fromA.console(), /ezio: FAILED: the server at http:\/\/10\.0\.2\.100:\d+ is not the one this machine booted from: the disk was not touched/, 'init says so')
  t.notMatch(fromA.console(), /Kernel panic/)
  await fromA.powerCut()
  t.equal(await sha256(disk), blank, 'the disk is untouched')

  const fromB = await boot((await servedInitrd(b, path.join(dir, 'from-b'))).initrd, '52:54:00:e2:20:02')
  const end = await fromB.exited
  t.equal(end.exitCode, 0, `booted from B, the guest cloned and rebooted (${(end.ms / 1000).toFixed(1)} s)`)
  t.match(fromB.console(), /ezio: the config is signed by ezio serve on \S+, key SHA256:\S+, the server this machine booted from/)
  t.equal(await sha256(disk, SIZE), await sha256(imageB), 'the disk holds B\'s image')
})
