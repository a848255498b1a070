import t from 'tap'
import { checkCloned, room } from '../helpers/netboot-room.ts'

t.setTimeout(900_000)

t.test('a guest whose server is down at boot waits, and clones once the server comes up', async t => {
  const r = await room(t)
  const mac = '52:54:00:e2:10:04'
  const guest = await r.boot({ mac, append: `ezio.server=${r.server()} ezio.countdown=0` })
  await guest.waitFor(/ezio: the server is not up yet/, 300_000)
  t.pass('init says the server is not up yet and keeps trying')
  // Long enough for several retries: waiting must not turn into a failure.
  await new Promise(resolve => setTimeout(resolve, 8000))
  t.notMatch(guest.console(), /FAILED/, 'no failure while the server is down')
  const srv = await r.serve()
  await checkCloned(t, r, guest, srv, mac)
})
