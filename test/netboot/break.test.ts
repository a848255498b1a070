import t from 'tap'
import { checkCloned, room } from '../helpers/netboot-room.ts'

t.setTimeout(900_000)

t.test('ezio.break=clone: a shell before the clone stage; leaving it goes on to clone', async t => {
  const r = await room(t)
  const srv = await r.serve()
  const mac = '52:54:00:e2:10:08'
  const guest = await r.boot({ mac, append: `ezio.server=${r.server()} ezio.countdown=0 ezio.break=clone` })
  await guest.waitFor(/ezio: ezio\.break=clone: a shell before the clone stage/, 300_000)
  await guest.waitFor(/ezio# /, 60_000)
  t.match(guest.console(), /ezio: eth0 \(52:54:00:e2:10:08\): 10\.0\.2\.\d+/, 'the stages before it ran: the network is up')
  guest.type('read -r ip < /run/net/eth0/ip && echo lease-$ip-$((1 + 1))\n')
  await guest.waitFor(/lease-10\.0\.2\.\d+-2/, 60_000)
  t.pass('the lease is kept as data under /run/net/eth0/')
  guest.type('pidof ezio || echo no-client-$((1 + 1))\n')
  await guest.waitFor(/no-client-2/, 60_000)
  t.pass('the shell runs before the client started')
  guest.type('exit\n')
  await checkCloned(t, r, guest, srv, mac)
})
