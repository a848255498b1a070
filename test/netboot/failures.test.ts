import { randomImage, sha256 } from '../helpers/files.ts'
import t from 'tap'
import type { Machine } from '../../server/machines.ts'
import { room, SIZE } from '../helpers/netboot-room.ts'

t.setTimeout(900_000)

t.test('a disk too small for the image: the failure message, a working shell, the disk untouched', async t => {
  const r = await room(t, SIZE / 2)
  await randomImage(r.disk, SIZE / 2)
  const before = await sha256(r.disk)
  const srv = await r.serve()
  const mac = '52:54:00:e2:10:05'
  const guest = await r.boot({ mac, append: `ezio.server=${r.server()} ezio.countdown=0` })
  await guest.waitFor(/ezio: FAILED: the clone or capture failed/, 300_000)
  await guest.waitFor(/ezio# /, 60_000)
  t.match(guest.console(), /ezio: no internal disk can hold the image/, 'ezio boot said why, in one ezio: line')
  t.match(guest.console(), /ezio: check: /, 'init said what to check')
  guest.type('echo shell-$((6 * 7))\n')
  await guest.waitFor(/shell-42/, 60_000)
  t.pass('the failure shell runs commands')
  t.notMatch(guest.console(), /Kernel panic|reboot: Restarting/, 'no panic, no reboot')
  const machines = await srv.json<Machine[]>('/api/machines')
  t.equal(machines.find(m => m.id === mac)?.state, 'failed', 'the server lists the machine as failed')
  guest.qemu.kill('SIGTERM')
  await guest.exited
  t.equal(await sha256(r.disk), before, 'the disk is untouched')
})

t.test('a machine the server does not allow: the server\'s reason on the console, then a shell', async t => {
  const r = await room(t)
  const before = await sha256(r.disk)
  await r.serve(['--allow', '52:54:00:00:00:01'])
  const guest = await r.boot({ mac: '52:54:00:e2:10:06', append: `ezio.server=${r.server()} ezio.countdown=0` })
  await guest.waitFor(/ezio: FAILED: the server refuses this machine/, 300_000)
  await guest.waitFor(/ezio# /, 60_000)
  t.match(guest.console(), /refuses this machine \(52:54:00:e2:10:06\): .*not in the server's --allow list/, 'the 403 body is shown')
  guest.qemu.kill('SIGTERM')
  await guest.exited
  t.equal(await sha256(r.disk), before, 'the disk is untouched')
})
