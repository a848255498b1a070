import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Network, type Host } from '../../lab/netns.ts'
import { get, until } from '../../lab/room.ts'
import { randomImage, tempDir } from '../helpers/files.ts'
import { bundle, node } from '../helpers/paths.ts'

const MAC = '52:54:00:77:00:02'

interface Captured { dstIp: string, dstPort: number, payload: Buffer }

// A pcap file as tcpdump -w writes it: a 24-byte header, then a 16-byte
// header before each Ethernet frame (IPv4, UDP here).
function udpPackets (pcap: Buffer): Captured[] {
  const out: Captured[] = []
  for (let at = 24; at + 16 <= pcap.length;) {
    const length = pcap.readUInt32LE(at + 8)
    const frame = pcap.subarray(at + 16, at + 16 + length)
    at += 16 + length
    const ip = frame.subarray(14)
    const udp = ip.subarray((ip[0]! & 0x0f) * 4)
    out.push({ dstIp: [...ip.subarray(16, 20)].join('.'), dstPort: udp.readUInt16BE(2), payload: udp.subarray(8, udp.readUInt16BE(4)) })
  }
  return out
}

/** tcpdump on HOST's wire until it has seen COUNT Wake-on-LAN datagrams (ports 9 and 7). */
async function capture (net: Network, host: Host, file: string, count: number): Promise<() => Promise<Captured[]>> {
  const dump = net.exec(host, 'timeout', ['60', 'tcpdump', '-i', host.dev, '-nn', '-U', '-c', String(count), '-w', file, 'udp and (dst port 9 or dst port 7)'], { all: true })
  await until(async () => fs.access(file).then(() => true, () => false), 20, 'tcpdump to start')
  return async () => {
    const r = await dump
    if (r.exitCode !== 0) throw new Error(`tcpdump: exit ${r.exitCode}: ${String(r.all)}`)
    return udpPackets(await fs.readFile(file))
  }
}

function magic (mac: string): Buffer {
  const bytes = Buffer.from(mac.replaceAll(':', ''), 'hex')
  return Buffer.concat([Buffer.alloc(6, 0xff), ...Array<Buffer>(16).fill(bytes)])
}

t.test('Wake-on-LAN: the magic packet for a known machine crosses the wire of its segment, to its directed broadcast', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), 1024 * 1024)
  const net = await Network.create()
  t.teardown(() => net.destroy())
  const srv = await net.addHost('srv', 1)
  const pc = await net.addHost('pc', 2)
  const state = path.join(dir, 'state')
  const serve = (extra: string[]) => net.exec(srv, node, [bundle, 'serve', image, '--accept-all', '--port', '8080', '--bt-port', '6881', '--state', state, ...extra], { all: true })
  const url = `http://${srv.ip}:8080`
  const first = serve([])
  t.teardown(() => { first.kill('SIGKILL') })
  await until(async () => (await get(net, srv, `${url}/api/machines`)) !== undefined, 120, 'ezio serve to answer')
  t.ok(await get(net, pc, `${url}/ezio.json?mac=${MAC}`), 'the machine asks for its config from its segment: the server knows it there')

  const token = await fs.readFile(path.join(state, 'tokens.json'), 'utf8').then(s => (JSON.parse(s) as { operator: string }).operator)
  const captured = await capture(net, pc, path.join(dir, 'wake.pcap'), 2)
  const refused = await net.exec(pc, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', `${url}/api/machines/${MAC}/wake`])
  t.equal(String(refused.stdout), '403', 'no operator token, no wake')
  const woke = await net.exec(pc, 'curl', ['-sf', '-X', 'POST', `${url}/api/machines/${MAC}/wake?token=${token}`])
  t.match(JSON.parse(String(woke.stdout)), { id: MAC, sentTo: ['10.99.0.255 (eth0)'] }, 'the answer names where the packet went')
  const packets = await captured()
  t.same(packets.map(p => [p.dstIp, p.dstPort]).sort(), [['10.99.0.255', 7], ['10.99.0.255', 9]], 'to the segment\'s directed broadcast, ports 9 and 7')
  for (const p of packets) t.same(p.payload, magic(MAC), 'six 0xff bytes, then the MAC sixteen times')

  first.kill('SIGTERM')
  await first
  const again = await capture(net, pc, path.join(dir, 'wake-at-start.pcap'), 2)
  const second = serve(['--wake'])
  t.teardown(() => { second.kill('SIGKILL') })
  const atStart = await again()
  t.equal(atStart.length, 2, 'ezio serve --wake wakes every known machine at start')
  t.ok(atStart.every(p => p.payload.equals(magic(MAC))))
})
