// The netboot appliance booted under QEMU against ezio serve: see
// bench/netboot for what it measures and its knobs.
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { blankFile, randomImage, sha256 } from '../test/helpers/files.ts'
import { freePort, waitFor } from '../test/helpers/net.ts'
import { ezioProcess } from '../test/helpers/ezio.ts'
import { hostFromGuest, netbootDir, startGuest } from '../test/helpers/qemu.ts'

const MiB = 1024 * 1024
const size = Number(process.env.SIZE_MIB ?? 256) * MiB
const mems = (process.env.MEMS ?? '256 320 384 448 512 768').split(/\s+/).filter(Boolean).map(Number)

// Measured by hand before the project had code (../shared/NOTES.md).
const reference = { initrdMB: 27.8, bootSeconds: 10.4, minMemoryMiB: 384 }

const cleanups: Array<() => unknown> = []
const teardown = { teardown: (fn: () => unknown) => { cleanups.push(fn) } }

interface Boot { ok: boolean, clientSeconds?: number, rebootSeconds?: number, why?: string }

async function serve (image: string, state: string, port: number, btPort: number): Promise<void> {
  const proc = ezioProcess(['serve', image, '--accept-all', '--port', String(port), '--bt-port', String(btPort), '--state', state, '--seed-idle', '0', '--netboot', netbootDir])
  cleanups.push(async () => { proc.kill('SIGTERM'); await proc })
  await waitFor('ezio serve', async () => (await fetch(`http://127.0.0.1:${port}/api/machines`).catch(() => undefined))?.ok || undefined, 300_000)
}

async function boot (work: string, image: string, imageSha: string, memoryMiB: number, port: number, btPort: number): Promise<Boot> {
  const disk = await blankFile(path.join(work, `disk-${memoryMiB}.img`), size)
  try {
    // A MAC of its own for each boot: the server sends a machine that already
    // holds the image to its disk instead of cloning it again.
    const mac = `52:54:00:be:${(memoryMiB >> 8).toString(16).padStart(2, '0')}:${(memoryMiB & 255).toString(16).padStart(2, '0')}`
    const guest = await startGuest(teardown, {
      disk, memoryMiB, mac, forward: [port, btPort], timeoutSeconds: 900,
      append: `ezio.server=http://${hostFromGuest}:${port} ezio.countdown=0`
    })
    // A guest too small to boot ends in init's failure shell (or worse) and
    // never exits by itself: stop waiting at the first sign.
    const clientMs = await guest.waitFor(/ezio: starting the client/, 300_000).catch(() => undefined)
    await guest.waitFor(/ezio: done: rebooting|ezio: FAILED|Kernel panic|Out of memory/, 600_000).catch(() => undefined)
    const finished = /ezio: done: rebooting/.test(guest.console())
    if (!finished) guest.qemu.kill('SIGTERM')
    const end = await guest.exited
    const cloned = finished && end.exitCode === 0 && await sha256(disk, size) === imageSha
    if (!cloned) {
      const why = guest.console().split(/\r?\n/).filter(l => /FAILED|unpacking failed|Out of memory|Kernel panic|ezio: /.test(l)).slice(-2).join(' / ')
      return { ok: false, why: why || 'no clone' }
    }
    return { ok: true, clientSeconds: clientMs === undefined ? undefined : clientMs / 1000, rebootSeconds: end.ms / 1000 }
  } finally {
    await fs.rm(disk, { force: true })
  }
}

async function main (): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ezio-bench-netboot-'))
  cleanups.push(() => fs.rm(work, { recursive: true, force: true }))
  const initrdBytes = (await fs.stat(path.join(netbootDir, 'initrd.img'))).size
  const image = await randomImage(path.join(work, 'image.img'), size)
  const imageSha = await sha256(image)
  const port = await freePort()
  const btPort = await freePort()
  console.error(`ezio serve on port ${port}`)
  await serve(image, path.join(work, 'state'), port, btPort)
  console.error('booting at -m 768')

  const main768 = await boot(work, image, imageSha, 768, port, btPort)
  console.error(`-m 768: ${main768.ok ? `client at ${main768.clientSeconds?.toFixed(1)} s, reboot at ${main768.rebootSeconds?.toFixed(1)} s` : `failed: ${main768.why}`}`)
  const results: Array<[number, Boot]> = []
  for (const m of mems) {
    const r = m === 768 ? main768 : await boot(work, image, imageSha, m, port, btPort)
    results.push([m, r])
    console.error(`-m ${m}: ${r.ok ? `cloned, reboot at ${r.rebootSeconds?.toFixed(1)} s` : `failed: ${r.why}`}`)
  }
  const smallest = results.find(([, r]) => r.ok)?.[0]
  const row = (what: string, value: string, ref: string): string => `${what.padEnd(40)} ${value.padStart(12)}   ${ref}`
  console.log(`netboot under QEMU (TCG), ${size / MiB} MiB image, virtio disk and NIC, ezio serve on loopback`)
  console.log(row('', 'this run', 'reference (NOTES.md, by hand)'))
  console.log(row('initrd.img (zstd -19)', `${(initrdBytes / 1e6).toFixed(1)} MB`, `${reference.initrdMB} MB (ezio executable alone, before modules)`))
  console.log(row('QEMU start -> client start (-m 768)', main768.clientSeconds === undefined ? 'n/a' : `${main768.clientSeconds.toFixed(1)} s`, `${reference.bootSeconds} s to /init with a zstd-19 initrd`))
  console.log(row('QEMU start -> reboot (-m 768)', main768.ok ? `${main768.rebootSeconds!.toFixed(1)} s` : `failed: ${main768.why}`, '-'))
  console.log(row('smallest -m that clones', smallest === undefined ? 'none' : `${smallest} MiB`, `${reference.minMemoryMiB} MiB to boot (256 failed to unpack)`))
  for (const [m, r] of results) if (!r.ok) console.log(row(`  -m ${m}`, 'fails', r.why ?? ''))
}

main().catch(err => { console.error(err); process.exitCode = 1 }).finally(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {})
})
