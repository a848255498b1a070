import path from 'node:path'
import type { Test } from 'tap'
import type { Machine } from '../../server/machines.ts'
import { blankFile, randomImage, sha256, tempDir } from './files.ts'
import { freePort } from './net.ts'
import { hostFromGuest, netbootFiles, startGuest, type Guest, type GuestOptions } from './qemu.ts'
import { startServe, type Served } from './serve.ts'

export const SIZE = 64 * 1024 * 1024
// Software emulation on 2 shared cores: a boot and a 64 MiB clone take about
// half a minute; the limits leave room for a loaded CI machine.
export const GUEST_SECONDS = 420

export interface Room {
  dir: string
  image: string
  disk: string
  port: number
  btPort: number
  /** ezio serve IMAGE on PORT and BTPORT, the addresses left to the Host header. */
  serve: (args?: string[]) => Promise<Served>
  /** A guest that reaches exactly PORT and BTPORT, at 10.0.2.100. */
  boot: (opts: Partial<GuestOptions> & { append?: string }) => Promise<Guest>
  server: () => string
}

/** A random 64 MiB image, a blank disk of DISKSIZE for the guest, two free ports. */
export async function room (t: Test, diskSize = SIZE): Promise<Room> {
  await netbootFiles()
  const dir = await tempDir(t, 'ezio-netboot-')
  const image = await randomImage(path.join(dir, 'lab.img'), SIZE)
  const disk = await blankFile(path.join(dir, 'guest.disk'), diskSize)
  const port = await freePort()
  const btPort = await freePort()
  return {
    dir,
    image,
    disk,
    port,
    btPort,
    serve: args => startServe(t, image, path.join(dir, 'state'), ['--seed-idle', '0', ...(args ?? [])], { port, btPort, advertise: false }),
    boot: opts => startGuest(t, { disk, forward: [port, btPort], timeoutSeconds: GUEST_SECONDS, ...opts }),
    server: () => `http://${hostFromGuest}:${port}`
  }
}

/** The guest rebooted or powered off (QEMU ended by itself), its disk holds the image, the server lists it as done. */
export async function checkCloned (t: Test, r: Room, guest: Guest, srv: Served, mac: string, after: 'reboot' | 'poweroff' = 'reboot'): Promise<void> {
  const end = await guest.exited
  t.equal(end.exitCode, 0, `the guest ended by itself after ${(end.ms / 1000).toFixed(1)} s (QEMU ends at power-off, and at a reboot with -no-reboot)`)
  t.match(guest.console(), after === 'reboot' ? /ezio: done: rebooting/ : /ezio: done: powering off/, `init said it does what the config says after the clone: ${after}`)
  t.equal(await sha256(r.disk, SIZE), await sha256(r.image), 'the guest disk\'s first 64 MiB equal the image')
  const machines = await srv.json<Machine[]>('/api/machines')
  const m = machines.find(x => x.id === mac)
  t.ok(m, `the server lists the machine ${mac}`)
  t.equal(m?.state, 'done', 'the server lists it as done')
  t.equal(m?.bytesDone, SIZE)
}
