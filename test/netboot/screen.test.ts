import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { getAs } from '../helpers/net.ts'
import { room } from '../helpers/netboot-room.ts'
import { root } from '../helpers/paths.ts'
import { hostFromGuest } from '../helpers/qemu.ts'
import { Monitor, readScreen } from '../helpers/screen.ts'
import { sha256 } from '../helpers/files.ts'

t.setTimeout(900_000)

async function screenUntil (monitor: Monitor, dir: string, pattern: RegExp, timeoutMs: number, keep: string): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let text = ''
  while (Date.now() < deadline) {
    text = await readScreen(monitor, dir, keep)
    if (pattern.test(text)) return text
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
  throw new Error(`the screen never showed ${pattern}; last read:\n${text}`)
}

t.test('the screen is the console: the erase warning is read off the VGA screen, a key on the PS/2 keyboard aborts it, the disk is untouched', async t => {
  const r = await room(t)
  const before = await sha256(r.disk)
  await r.serve(['--countdown', '90'])
  const mac = '52:54:00:e2:10:0d'
  // The kernel line exactly as boot.ipxe hands it to this machine, with
  // what iPXE would put for ${netX/mac:hexhyp}.
  const script = (await getAs(r.port, `${hostFromGuest}:${r.port}`, `/boot/boot.ipxe?mac=${mac}`)).toString()
  const line = /^kernel \S+ (.*)$/m.exec(script)?.[1]
  t.ok(line, 'boot.ipxe has a kernel line')
  t.match(line, / console=ttyS0,115200n8 console=tty0$/, 'it ends in console=tty0')
  const append = line!.replace('${netX/mac:hexhyp}', mac.replaceAll(':', '-'))
  const monitorPath = path.join(r.dir, 'monitor.sock')
  const guest = await r.boot({ mac, append, screen: monitorPath, diskBus: 'ahci', diskModel: 'LABDISK', diskSerial: 'EZ4711' })
  const monitor = await Monitor.connect(monitorPath)
  t.teardown(() => monitor.close())
  const artifacts = path.join(root, 'test/artifacts')
  await fs.mkdir(artifacts, { recursive: true })

  const warning = await screenUntil(monitor, r.dir, /ERASED/, 400_000, path.join(artifacts, 'screen-erase-warning.png'))
  t.match(warning, /ALL DATA ON \/dev\/sda WILL BE ERASED/, 'the warning, on the screen, names the disk')
  t.match(warning, /disk: LABDISK, serial EZ4711, 0\.1 GB/, 'by its model, serial number and size')
  t.match(warning, /replaced by lab/, 'with the image it will receive')
  t.match(warning, /press any key/, 'and says how to stop it')
  await monitor.command('sendkey spc')
  const aborted = await screenUntil(monitor, r.dir, /aborted/, 60_000, path.join(artifacts, 'screen-aborted.png'))
  t.match(aborted, /not touched/, 'after the key, the screen says the clone was aborted and the disk not touched')
  guest.qemu.kill('SIGTERM')
  await guest.exited
  t.equal(await sha256(r.disk), before, 'the disk is unchanged')
})
