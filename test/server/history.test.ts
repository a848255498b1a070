import path from 'node:path'
import t from 'tap'
import type { Machine } from '../../server/machines.ts'
import { ezio } from '../helpers/ezio.ts'
import { blankFile, randomImage, tempDir } from '../helpers/files.ts'
import { startServe, type Served } from '../helpers/serve.ts'

const SIZE = 8 * 1024 * 1024

// RFC 4180 rows: fields split at commas outside quotes, "" inside quotes is one ".
function parseCsv (text: string): Record<string, string>[] {
  const rows = text.trimEnd().split('\n').map(line => [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map(m => {
    const f = m[1]!
    return f.startsWith('"') ? f.slice(1, -1).replaceAll('""', '"') : f
  }))
  const [header, ...body] = rows
  return body.map(r => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])))
}

async function history (srv: Served): Promise<Record<string, string>[]> {
  const res = await fetch(`${srv.url}/api/history.csv?token=${srv.operatorToken}`)
  if (!res.ok) throw new Error(`GET /api/history.csv: HTTP ${res.status}`)
  return parseCsv(await res.text())
}

t.test('the history: one row per clone, with its bytes from the server and from peers, kept across a restart', async t => {
  const dir = await tempDir(t)
  const image = await randomImage(path.join(dir, 'lab.img'), SIZE)
  const state = path.join(dir, 'state')
  const srv = await startServe(t, image, state, ['--seed-ratio', '0'])
  const ids = ['52:54:00:aa:10:01', '52:54:00:aa:10:02', '52:54:00:aa:10:03']
  // Named once it is known (its boot script asked for), before it clones.
  await fetch(`${srv.url}/boot/boot.ipxe?mac=${ids[0]}`)
  t.equal((await fetch(`${srv.url}/api/machines/${ids[0]}/name?token=${srv.operatorToken}`, { method: 'POST', body: '{"name":"pc-01"}' })).status, 200)
  const boots = await Promise.all(ids.map(async id => ezio(['boot', srv.url, '--target', await blankFile(path.join(dir, `${id.slice(-2)}.disk`), SIZE), '--id', id, '--countdown', '0'])))
  t.same(boots.map(b => b.exitCode), [0, 0, 0], 'three machines cloned')
  // A fourth one's disk is too small: its clone fails, with the reason.
  const small = await ezio(['boot', srv.url, '--target', await blankFile(path.join(dir, 'small.disk'), SIZE / 2), '--id', 'pc-small', '--countdown', '0'])
  t.not(small.exitCode, 0, 'the too-small disk is refused')
  // A fifth is handed its config, then boots again before it reported anything.
  for (let i = 0; i < 2; i++) await fetch(`${srv.url}/ezio.json?mac=pc-gone`)

  const rows = await history(srv)
  const machines = await srv.json<Machine[]>('/api/machines')
  t.same(rows.map(r => [r.machine, r.result]).sort(), [...ids.map(id => [id, 'done']), ['pc-gone', 'aborted'], ['pc-small', 'failed']].sort(), 'one row per clone: three done, one failed, one aborted')
  for (const id of ids) {
    const row = rows.find(r => r.machine === id)!
    const m = machines.find(x => x.id === id)!
    const got = Number(row.bytes_from_server) + Number(row.bytes_from_peers)
    t.ok(got >= SIZE && got <= SIZE * 1.1, `${id}: ${row.bytes_from_server} from the server + ${row.bytes_from_peers} from peers = the image, ${SIZE}, give or take duplicates`)
    t.same([Number(row.bytes_from_server), Number(row.bytes_from_peers)], [m.fromSeeder, m.fromPeers], `${id}: the counts its last report gave`)
    t.match(row, { mac: id, ip: '127.0.0.1', image: 'lab' })
    t.ok(Date.parse(row.end!) >= Date.parse(row.start!) && Number(row.seconds) >= 0 && Number(row.seconds) < 120, `${id}: ${row.start} to ${row.end}, ${row.seconds} s`)
  }
  t.equal(rows.find(r => r.machine === ids[0])!.name, 'pc-01', 'the name the machine had')
  const served = rows.filter(r => r.result === 'done').reduce((n, r) => n + Number(r.bytes_from_server), 0)
  t.ok(served > 0, `the server sent ${served} bytes of the three clones`)
  t.match(rows.find(r => r.machine === 'pc-small')!.message, /holds \d+ bytes but the image ends at byte \d+/, 'the failed clone says why')
  t.equal(rows.find(r => r.machine === 'pc-small')!.mac, '', 'a machine named otherwise has no MAC column')
  t.match(rows.find(r => r.machine === 'pc-gone')!.message, /booted again before its clone was complete/)

  srv.proc.kill('SIGTERM')
  await srv.exited
  const again = await startServe(t, image, state, ['--seed-ratio', '0'])
  t.same(await history(again), rows, 'the same record after a restart')
  const csv = await fetch(`${again.url}/api/history.csv?token=${again.operatorToken}`)
  t.match(csv.headers.get('content-type'), /^text\/csv/)
  t.match(csv.headers.get('content-disposition'), /attachment; filename="ezio-history.csv"/, 'the button downloads it as a file')
})
