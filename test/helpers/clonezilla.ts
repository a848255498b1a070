import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Test } from 'tap'
import { tempDir } from './files.ts'
import { waitFor } from './net.ts'
import { root } from './paths.ts'

// Clonezilla's own tools for its BitTorrent mode, from Debian 12's packages:
// clonezilla (5.3.17) and drbl, whose shell functions it sources (both
// fetched by make test into dist/cache and only unpacked here, never
// installed), and opentracker (installed: build/debian-packages.txt).

/** Debian's clonezilla and drbl packages unpacked into one fresh directory: its root. */
export async function clonezillaPackage (t: Test): Promise<string> {
  const dir = await tempDir(t, 'clonezilla-')
  for (const pkg of ['clonezilla', 'drbl']) await execa('dpkg-deb', ['-x', path.join(root, `dist/cache/${pkg}.deb`), dir])
  return dir
}

/**
 * Clonezilla's gen-torrent-from-ptcl, with its one change for Debian 12's
 * python3-libtorrent 2.0: as packaged it asks for a hybrid v1+v2 torrent
 * (flags=0) and fails ("missing or invalid 'hash' entry"); v1_only makes the
 * v1 torrent Clonezilla makes with libtorrent 1.x.
 */
export async function clonezillaGenerator (t: Test, unpacked?: string): Promise<string> {
  unpacked ??= await clonezillaPackage(t)
  const script = path.join(unpacked, 'usr/bin/gen-torrent-from-ptcl')
  const text = await fs.readFile(script, 'utf8')
  const changed = text.replace('lt.create_torrent(fs, 16 * 1024 * 1024, flags=0)', 'lt.create_torrent(fs, 16 * 1024 * 1024, flags=lt.create_torrent.v1_only)')
  if (changed === text) throw new Error(`${script} no longer makes its torrent as 5.3.17 did: look at it again`)
  // Debian's own python3, which has libtorrent, whatever python3 comes first on PATH.
  await fs.writeFile(script, changed.replace(/^#!.*\n/, '#!/usr/bin/python3\n'))
  return script
}

/** `gen-torrent-from-ptcl -p PART -c Clonezilla -i INFO -o OUT [-t TRACKER]`, as ocs-btsrv runs it. */
export async function genTorrentFromPtcl (generator: string, info: string, part: string, out: string, tracker?: string): Promise<void> {
  await execa('/usr/bin/python3', [generator, '-p', part, '-c', 'Clonezilla', '-i', info, '-o', out, ...tracker ? ['-t', tracker] : []])
}

/** opentracker on loopback PORT, answering for INFOHASHES only (its whitelist, as ocs-btsrv runs it). */
export async function startOpentracker (t: Test, port: number, infoHashes: string[]): Promise<void> {
  const dir = await tempDir(t, 'opentracker-')
  // opentracker chroots into -d and reads the whitelist there, as nobody.
  await fs.chmod(dir, 0o755)
  await fs.writeFile(path.join(dir, 'whitelist.txt'), infoHashes.join('\n') + '\n', { mode: 0o644 })
  const proc = execa('opentracker', ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-u', 'nobody', '-w', '/whitelist.txt'], { reject: false })
  t.teardown(() => { proc.kill('SIGKILL') })
  // Any answer will do: an announce naming no torrent gets a 400.
  await waitFor('opentracker to answer', async () => (await fetch(trackerUrl(port)).catch(() => undefined)) && true, 10_000)
}

export function trackerUrl (port: number): string {
  return `http://127.0.0.1:${port}/announce`
}
