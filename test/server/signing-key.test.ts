import t from 'tap'
import { execa } from 'execa'
import { createPublicKey, verify } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { DeployConfig } from '../../protocol/config.ts'
import { keyFingerprint, signedPayload, type PinnedServer } from '../../protocol/signature.ts'
import { randomImage, tempDir } from '../helpers/files.ts'
import { netbootDir } from '../helpers/qemu.ts'
import { startServe } from '../helpers/serve.ts'

t.test('the initrd as served: the built one, then a cpio archive holding the server\'s public key; configs signed with it; the key kept across restarts', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), 4 * 1024 * 1024)
  const state = path.join(dir, 'state')
  const built = await fs.readFile(path.join(netbootDir, 'initrd.img'))
  const srv = await startServe(t, image, state)
  const fingerprint = /configs signed with key (SHA256:\S+)/.exec(srv.startLine())?.[1]
  t.ok(fingerprint, 'the start-up line names the key')
  t.equal(((await fs.stat(path.join(state, 'signing-key.pem'))).mode & 0o777), 0o600, 'the private key is the owner\'s alone')

  const served = Buffer.from(await (await fetch(`${srv.url}/boot/initrd.img`)).arrayBuffer())
  t.ok(served.subarray(0, built.length).equals(built), 'it starts with the built initrd, unchanged')
  const gap = served.subarray(built.length, built.length + (4 - built.length % 4) % 4)
  t.ok(gap.every(b => b === 0), 'zeros up to a 4-byte boundary')
  const tail = served.subarray(built.length + gap.length)
  t.equal(tail.subarray(0, 6).toString(), '070701', 'then a newc archive')
  // GNU cpio, not ezio's writer, reads the archive back.
  const out = path.join(dir, 'unpacked')
  await fs.mkdir(out)
  const listed = await execa('cpio', ['-t', '--quiet'], { input: tail })
  t.same(listed.stdout.split('\n'), ['etc', 'etc/ezio', 'etc/ezio/server.json'])
  await execa('cpio', ['-idm', '--quiet'], { input: tail, cwd: out })
  const pinned = JSON.parse(await fs.readFile(path.join(out, 'etc/ezio/server.json'), 'utf8')) as PinnedServer
  const key = createPublicKey(pinned.publicKey)
  t.equal(keyFingerprint(key), fingerprint, 'the archive carries the key the start-up line names')
  t.match(pinned.name, /^ezio serve on /)

  const config = await srv.json<DeployConfig>('/ezio.json')
  t.equal(config.machine, '*')
  t.match(config.infoHash, /^[0-9a-f]{40}$/)
  t.ok(verify(null, signedPayload(config), key, Buffer.from(config.signature!, 'base64')), 'the config verifies with that key')
  t.notOk(verify(null, signedPayload({ ...config, target: '/dev/sdb' }), key, Buffer.from(config.signature!, 'base64')), 'and not once its target is changed')

  srv.proc.kill('SIGTERM')
  await srv.exited
  const again = await startServe(t, image, state)
  t.match(again.startLine(), `configs signed with key ${fingerprint}`, 'a restarted server keeps its key: machines booted before still take its configs')
})
