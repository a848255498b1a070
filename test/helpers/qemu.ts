import { execa, type ResultPromise } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Test } from 'tap'
import { root } from './paths.ts'

export const netbootDir = path.join(root, 'dist/netboot')
/** Where a guest reaches the host's forwarded loopback ports. */
export const hostFromGuest = '10.0.2.100'

export interface GuestOptions {
  /** A raw image file: the guest's only disk. */
  disk: string
  diskBus?: 'virtio' | 'ahci' | 'nvme'
  nic?: 'virtio' | 'e1000'
  mac?: string
  memoryMiB?: number
  /** Host loopback ports the guest may reach, at 10.0.2.100:PORT; nothing else. */
  forward: number[]
  /** Boots dist/netboot's kernel and initrd (or INITRD: one a server served) directly with these arguments... */
  append?: string
  initrd?: string
  /** Writes to the disk at most this many bytes a second (QEMU's throttling): a slow disk, whose flushes take long. */
  diskWriteBps?: number
  /**
   * ...or through UEFI PXE: OVMF loads BOOTFILE from TFTPDIR over user-net
   * TFTP; with secureBoot, OVMF's Secure Boot build with Microsoft's keys
   * enrolled, as a stock PC (q35 with SMM)...
   */
  uefiPxe?: { tftpDir: string, bootfile: string, secureBoot?: boolean }
  /**
   * ...or as a BIOS PC whose boot order is network, then disk: SeaBIOS runs
   * the NIC's iPXE ROM, which takes BOOTURL from DHCP; when that exits, the disk boots.
   */
  biosPxe?: { bootUrl: string }
  /** A reboot restarts the guest (else it ends QEMU, -no-reboot). */
  reboots?: boolean
  /**
   * A PC as a person sees it: a VGA screen and a PS/2 keyboard, read and
   * typed through QEMU's monitor at this unix socket; the serial port is
   * there but unwatched, and APPEND is the whole kernel line.
   */
  screen?: string
  /** The SATA disk's model and serial number (diskBus ahci). */
  diskModel?: string
  diskSerial?: string
  /** The guest is killed after this long, whatever the test does. */
  timeoutSeconds: number
}

export interface Guest {
  /** Everything the guest wrote on its serial console so far. */
  console: () => string
  /** Waits until the console matches PATTERN; rejects if QEMU ends first. Resolves with ms since QEMU started. */
  waitFor: (pattern: RegExp, timeoutMs: number) => Promise<number>
  /** Types TEXT on the serial console. */
  type: (text: string) => void
  /** QEMU's end, with ms since it started. -no-reboot makes a guest's reboot or power-off end QEMU. */
  exited: Promise<{ exitCode: number | undefined, ms: number }>
  qemu: ResultPromise
  /** SIGKILL to QEMU itself: the guest's page cache is lost, as in a power cut; what QEMU wrote is in the disk file. */
  powerCut: () => Promise<void>
}

/** dist/netboot's files, built by make netboot when missing (the tests' one build of it). */
export async function netbootFiles (): Promise<void> {
  const missing = await Promise.all(['vmlinuz', 'initrd.img', 'snponly.efi'].map(f => fs.access(path.join(netbootDir, f)).then(() => false, () => true)))
  if (missing.some(Boolean)) await execa('make', ['netboot'], { cwd: root, stdio: 'inherit', timeout: 20 * 60_000 })
}

/**
 * A QEMU guest (software emulation) whose console is a pipe, on user-mode
 * networking restricted to the test's own loopback ports. QEMU runs under
 * timeout(1), which forwards SIGTERM to it, and is killed when the test ends.
 */
export async function startGuest (t: Pick<Test, 'teardown'>, opts: GuestOptions): Promise<Guest> {
  const dir = await fs.mkdtemp(path.join(path.dirname(opts.disk), 'qemu-'))
  const pidFile = path.join(dir, 'qemu.pid')
  const args = [
    '-nodefaults', '-display', 'none', ...consoleArgs(opts), ...(opts.reboots ? [] : ['-no-reboot']),
    '-m', String(opts.memoryMiB ?? 768), '-pidfile', pidFile,
    ...diskArgs(opts.disk, opts.diskBus ?? 'virtio', diskExtra(opts), opts.diskWriteBps),
    ...netArgs(opts),
    ...(opts.uefiPxe ? await uefiArgs(dir, !!opts.uefiPxe.secureBoot) : opts.biosPxe ? [] : directBootArgs(opts.screen ? opts.append ?? '' : `console=ttyS0 loglevel=3 ${opts.append ?? ''}`, opts.initrd))
  ]
  const started = Date.now()
  const qemu = execa('timeout', ['--kill-after=10', String(opts.timeoutSeconds), 'qemu-system-x86_64', ...args], {
    reject: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false
  })
  let out = ''
  const listeners = new Set<() => void>()
  const append = (chunk: Buffer): void => { out += chunk.toString('latin1'); for (const l of listeners) l() }
  qemu.stdout?.on('data', append)
  qemu.stderr?.on('data', append)
  const exited = qemu.then(r => ({ exitCode: r.exitCode, ms: Date.now() - started }))
  let ended = false
  void exited.then(() => { ended = true; for (const l of listeners) l() })

  t.teardown(async () => {
    if (!ended) {
      qemu.kill('SIGTERM')
      // While timeout(1) lives, QEMU's pid cannot have been reused.
      const late = setTimeout(() => { void killPidFile(pidFile).then(() => qemu.kill('SIGKILL')) }, 10_000)
      await exited
      clearTimeout(late)
    }
    await fs.rm(dir, { recursive: true, force: true })
  })

  const waitFor = (pattern: RegExp, timeoutMs: number): Promise<number> => new Promise((resolve, reject) => {
    const check = (): void => {
      if (pattern.test(out)) { done(); resolve(Date.now() - started); return }
      if (ended) { done(); reject(new Error(`QEMU ended before the console showed ${pattern}; console:\n${tail(out)}`)) }
    }
    const timer = setTimeout(() => { done(); reject(new Error(`no ${pattern} on the console after ${timeoutMs} ms; console:\n${tail(out)}`)) }, timeoutMs)
    const done = (): void => { clearTimeout(timer); listeners.delete(check) }
    listeners.add(check)
    check()
  })
  const powerCut = async (): Promise<void> => {
    await killPidFile(pidFile)
    await exited
  }
  return { console: () => out, waitFor, type: text => { qemu.stdin?.write(text) }, exited, qemu, powerCut }
}

function diskArgs (disk: string, bus: 'virtio' | 'ahci' | 'nvme', extra: string, writeBps?: number): string[] {
  const drive = `file=${disk},format=raw,if=none,id=d0${writeBps ? `,throttling.bps-write=${writeBps}` : ''}`
  switch (bus) {
    case 'virtio': return ['-drive', drive, '-device', `virtio-blk-pci,drive=d0${extra}`]
    case 'ahci': return ['-drive', drive, '-device', 'ahci,id=ahci', '-device', `ide-hd,drive=d0,bus=ahci.0${extra}`]
    case 'nvme': return ['-drive', drive, '-device', `nvme,drive=d0,serial=ezio-test${extra}`]
  }
}

// One guestfwd per port, in its cmd: form (a connection per guest connection).
// restrict=on keeps the guest off every other address, the host's included.
function netArgs (opts: GuestOptions): string[] {
  const forwards = opts.forward.map(p => `guestfwd=tcp:${hostFromGuest}:${p}-cmd:socat - TCP:127.0.0.1:${p}`)
  const tftp = opts.uefiPxe ? [`tftp=${opts.uefiPxe.tftpDir}`, `bootfile=${opts.uefiPxe.bootfile}`] : opts.biosPxe ? [`bootfile=${opts.biosPxe.bootUrl}`] : []
  const netdev = ['user', 'id=n0', 'restrict=on', ...tftp, ...forwards].join(',')
  const model = opts.nic === 'e1000' ? 'e1000' : 'virtio-net-pci'
  // No option ROM for direct boot (none needed) and UEFI PXE (OVMF's own);
  // BIOS PXE runs the NIC's own, iPXE (Debian's ipxe-qemu), as a PC's PXE ROM.
  const rom = opts.biosPxe ? '' : ',romfile='
  const device = `${model},netdev=n0${rom}${opts.mac ? `,mac=${opts.mac}` : ''}${opts.uefiPxe || opts.biosPxe ? ',bootindex=1' : ''}`
  return ['-netdev', netdev, '-device', device]
}

function directBootArgs (append: string, initrd = path.join(netbootDir, 'initrd.img')): string[] {
  return ['-kernel', path.join(netbootDir, 'vmlinuz'), '-initrd', initrd, '-append', append.trim()]
}

function consoleArgs (opts: GuestOptions): string[] {
  if (!opts.screen) return ['-monitor', 'none', '-serial', 'stdio']
  return ['-vga', 'std', '-serial', 'null', '-monitor', `unix:${opts.screen},server,nowait`]
}

function diskExtra (opts: GuestOptions): string {
  return (opts.biosPxe ? ',bootindex=2' : '') + (opts.diskModel ? `,model=${opts.diskModel}` : '') + (opts.diskSerial ? `,serial=${opts.diskSerial}` : '')
}

async function uefiArgs (dir: string, secureBoot: boolean): Promise<string[]> {
  const vars = path.join(dir, 'OVMF_VARS.fd')
  await fs.copyFile(secureBoot ? '/usr/share/OVMF/OVMF_VARS_4M.ms.fd' : '/usr/share/OVMF/OVMF_VARS_4M.fd', vars)
  const code = secureBoot ? '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd' : '/usr/share/OVMF/OVMF_CODE_4M.fd'
  return ['-machine', secureBoot ? 'q35,smm=on' : 'q35', ...(secureBoot ? ['-global', 'driver=cfi.pflash01,property=secure,value=on'] : []),
    '-drive', `if=pflash,format=raw,readonly=on,file=${code}`,
    '-drive', `if=pflash,format=raw,file=${vars}`]
}

async function killPidFile (pidFile: string): Promise<void> {
  const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim())
  if (pid > 0) { try { process.kill(pid, 'SIGKILL') } catch {} }
}

function tail (text: string): string {
  return text.split(/\r?\n/).slice(-40).join('\n')
}
