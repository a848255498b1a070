import bencode from 'bencode'
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { getAs } from '../helpers/net.ts'
import { randomImage, sha256, tempDir } from '../helpers/files.ts'
import { libtorrentDownload } from '../helpers/libtorrent.ts'
import { startServe } from '../helpers/serve.ts'

const SIZE = 8 * 1024 * 1024

const compactPeers = (b: Uint8Array): string[] => {
  const out: string[] = []
  for (let i = 0; i + 6 <= b.length; i += 6) out.push(`${b[i]}.${b[i + 1]}.${b[i + 2]}.${b[i + 3]}:${(b[i + 4]! << 8) | b[i + 5]!}`)
  return out
}

t.test('the seeder is in its own tracker\'s swarm: a standard client given only the torrent finds it, at the address it reached the server at', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), SIZE)
  const srv = await startServe(t, image, path.join(dir, 'state'), [], { advertise: false })
  const torrentFile = path.join(dir, 'lab.torrent')
  const torrent = await getAs(srv.port, `127.0.0.1:${srv.port}`, '/ezio.torrent')
  await fs.writeFile(torrentFile, torrent)
  const info = (bencode.decode(torrent) as { info: unknown }).info
  const hash = createHash('sha1').update(bencode.encode(info)).digest()
  const announce = async (host: string): Promise<Record<string, unknown>> => bencode.decode(await getAs(srv.port, host,
    `/announce?info_hash=${[...hash].map(b => '%' + b.toString(16).padStart(2, '0')).join('')}&peer_id=${'%CC'.repeat(20)}&port=6999&uploaded=0&downloaded=0&left=${SIZE}&compact=1`)) as Record<string, unknown>
  const remote = await announce('10.99.0.1:8080')
  t.equal(remote.complete, 1, 'the tracker counts the seeder complete')
  const peers = compactPeers(remote.peers as Uint8Array)
  t.ok(peers.includes(`10.99.0.1:${srv.btPort}`), `and hands it out at the address the peer used: ${peers.join(', ')}`)
  t.notOk(peers.includes(`127.0.0.1:${srv.btPort}`), 'never as 127.0.0.1 to a remote peer')

  const out = path.join(dir, 'download')
  await fs.mkdir(out)
  const got = await libtorrentDownload(torrentFile, out, '127.0.0.2', [], 120)
  t.equal(got.exitCode, 0, `libtorrent, from 127.0.0.2 with no peer given, downloaded the image: ${got.output.split('\n').slice(-3).join(' / ')}`)
  t.equal(await sha256(path.join(out, 'lab')), await sha256(image), 'byte for byte')
})
