import t from 'tap'
import { checkCloned, room } from '../helpers/netboot-room.ts'

t.setTimeout(900_000)

t.test('NVMe disk: coldplug loads nvme, the guest clones onto nvme0n1 and powers off as the server says', async t => {
  const r = await room(t)
  const srv = await r.serve(['--after', 'poweroff'])
  const mac = '52:54:00:e2:10:03'
  const guest = await r.boot({ mac, diskBus: 'nvme', nic: 'virtio', append: `ezio.server=${r.server()} ezio.countdown=0` })
  await guest.waitFor(/ezio: starting the client/, 300_000)
  t.match(guest.console(), /ezio: drivers: .*\bnvme\b/, 'coldplug loaded nvme')
  t.match(guest.console(), /ezio: disks: nvme0n1\b/, 'the disk is nvme0n1')
  await guest.waitFor(/ALL DATA ON \/dev\/nvme0n1 /, 120_000)
  t.pass('target auto chose /dev/nvme0n1 and said so in the erase warning')
  await checkCloned(t, r, guest, srv, mac, 'poweroff')
})
