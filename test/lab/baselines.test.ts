import t from 'tap'
import path from 'node:path'
import { childrenCpuSeconds, CpuSampler } from '../../lab/cpu.ts'
import { runMulticast } from '../../lab/multicast.ts'
import { Network } from '../../lab/netns.ts'
import { runUnicast } from '../../lab/unicast.ts'
import { randomImage, tempDir } from '../helpers/files.ts'

const SIZE = 8 * 1024 * 1024

t.test('the baselines bench/lab measures ezio against: unicast HTTP and udpcast multicast to two namespace machines', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), SIZE)
  const net = await Network.create()
  t.teardown(() => net.destroy())
  const server = await net.addHost('srv', 1, '40mbit')
  const machines = [await net.addHost('m1', 11, '40mbit'), await net.addHost('m2', 12, '40mbit')]
  const cpu = new CpuSampler(200)
  await cpu.start()
  const before = await childrenCpuSeconds()
  for (const [name, run] of [['unicast', runUnicast], ['multicast', runMulticast]] as const) {
    const r = await run(net, server, machines, { image, dir, timeoutSeconds: 120 })
    for (const m of r.machines) t.ok(m.verified && m.error === null, `${name}: ${m.name}'s copy matches the image (${m.error ?? 'ok'})`)
    t.ok(r.seconds !== null && r.seconds > 0, `${name}: every machine timed (${r.seconds?.toFixed(1)} s)`)
    // Both machines share the server's link in unicast: at least 2 x S over it.
    if (name === 'unicast') t.ok(r.seconds! >= 2 * SIZE * 8 / 40e6 * 0.9, `unicast takes at least 2 x S/B (${r.seconds!.toFixed(1)} s)`)
  }
  await cpu.stop()
  const use = cpu.use()
  t.ok(use.mean >= 0 && use.mean <= 100 && use.peak >= use.mean, `host CPU sampled: ${use.mean.toFixed(0)}% mean, ${use.peak.toFixed(0)}% peak`)
  t.ok(await childrenCpuSeconds() > before, 'the lab\'s own processes are counted')
})
