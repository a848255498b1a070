import t from 'tap'
import { checkCloned, room } from '../helpers/netboot-room.ts'

t.setTimeout(900_000)

t.test('virtio disk and virtio-net: the guest coldplugs, gets a lease, clones from ezio serve and reboots', async t => {
  const r = await room(t)
  const srv = await r.serve()
  const mac = '52:54:00:e2:10:01'
  const guest = await r.boot({ mac, diskBus: 'virtio', nic: 'virtio', append: `ezio.server=${r.server()} ezio.countdown=0` })
  const clientAt = await guest.waitFor(/ezio: starting the client/, 300_000)
  t.comment(`QEMU start -> client start: ${(clientAt / 1000).toFixed(1)} s`)
  t.match(guest.console(), /ezio: drivers: .*\bvirtio_blk\b.*/, 'coldplug loaded virtio_blk')
  t.match(guest.console(), /ezio: drivers: .*\bvirtio_net\b/, 'coldplug loaded virtio_net')
  t.match(guest.console(), /ezio: eth0 \(52:54:00:e2:10:01\): 10\.0\.2\.\d+\/24/, 'eth0 got a lease')
  await checkCloned(t, r, guest, srv, mac)
})
