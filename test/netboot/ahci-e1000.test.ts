import t from 'tap'
import { checkCloned, room } from '../helpers/netboot-room.ts'

t.setTimeout(900_000)

t.test('SATA (AHCI) disk and e1000 NIC: coldplug finds ahci, sd_mod and e1000 from modalias', async t => {
  const r = await room(t)
  const srv = await r.serve()
  const mac = '52:54:00:e2:10:02'
  const guest = await r.boot({ mac, diskBus: 'ahci', nic: 'e1000', append: `ezio.server=${r.server()} ezio.countdown=0` })
  await guest.waitFor(/ezio: starting the client/, 300_000)
  t.match(guest.console(), /ezio: drivers: .*\bahci\b/, 'coldplug loaded ahci')
  t.match(guest.console(), /ezio: drivers: .*\bsd_mod\b/, 'coldplug loaded sd_mod for the SCSI disk ahci revealed')
  t.match(guest.console(), /ezio: drivers: .*\be1000\b/, 'coldplug loaded e1000')
  t.notMatch(guest.console(), /ezio: drivers: .*\bvirtio_net\b/, 'and no driver for hardware that is not there')
  t.match(guest.console(), /ezio: disks: sda\b/, 'the SATA disk is sda')
  await guest.waitFor(/ALL DATA ON \/dev\/sda /, 120_000)
  t.pass('target auto chose /dev/sda and said so in the erase warning')
  await checkCloned(t, r, guest, srv, mac)
})
