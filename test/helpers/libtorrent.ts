import { execa, type ResultPromise } from 'execa'
import path from 'node:path'
import type { Test } from 'tap'
import { waitFor } from './net.ts'
import { root } from './paths.ts'

/** Debian's python3-libtorrent lives under /usr/bin/python3, not the python3 first on PATH. */
export const systemPython = '/usr/bin/python3'
export const libtorrentPeer = path.join(root, 'test/fixtures/libtorrent_peer.py')

export interface LibtorrentSeeder {
  proc: ResultPromise
  peer: string
  /** The payload bytes it has uploaded, as of its last report (once a second). */
  uploaded: () => number
}

/**
 * libtorrent seeding DIR/<name of TORRENT> from ADDRESS (its own loopback
 * address: see test/fixtures/libtorrent_peer.py), killed when the test ends.
 */
export async function libtorrentSeed (t: Test, torrent: string, dir: string, address: string, opts: { uploadLimit?: number } = {}): Promise<LibtorrentSeeder> {
  const limit = opts.uploadLimit ? ['--upload-limit', String(opts.uploadLimit)] : []
  const proc = execa(systemPython, [libtorrentPeer, 'seed', torrent, dir, '--listen', address, ...limit], { reject: false, stdin: 'ignore' })
  let out = ''
  proc.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
  t.teardown(async () => { proc.kill('SIGKILL'); await proc })
  const port = await waitFor('libtorrent to seed', () => {
    if (proc.exitCode !== null) throw new Error('libtorrent seeder exited early')
    return /^seeding (\d+)$/m.exec(out)?.[1]
  }, 30_000, 50)
  const uploaded = (): number => Number([...out.matchAll(/^uploaded (\d+)$/gm)].at(-1)?.[1] ?? 0)
  return { proc, peer: `${address}:${port}`, uploaded }
}

/** libtorrent fetching TORRENT into DIR from PEERS; resolves with its exit and its own timing. */
export async function libtorrentDownload (torrent: string, dir: string, address: string, peers: string[], timeoutSeconds = 120): Promise<{ exitCode: number, seconds: number, output: string }> {
  const r = await execa(systemPython, [libtorrentPeer, 'download', torrent, dir, '--listen', address, '--timeout', String(timeoutSeconds), ...peers.flatMap(p => ['--peer', p])], { reject: false, stdin: 'ignore', timeout: (timeoutSeconds + 30) * 1000 })
  const m = /^finished ([\d.]+) \d+$/m.exec(String(r.stdout))
  return { exitCode: r.exitCode ?? -1, seconds: m ? Number(m[1]) : NaN, output: `${r.stdout}\n${r.stderr}` }
}
