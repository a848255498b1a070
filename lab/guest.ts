import { promises as fs } from 'node:fs'
import type { ResultPromise } from 'execa'
import type { Network } from './netns.ts'

export interface Guest {
  name: string
  mac: string
  disk: string
  log: string
  started: number
  qemu: ResultPromise
}

/**
 * Whether to use KVM. Off unless EZIO_LAB_KVM=1: on the machines this was
 * built on /dev/kvm exists but guests hang under it (nested virtualisation),
 * so software emulation is the safe default.
 */
export async function kvmUsable (): Promise<boolean> {
  if (process.env.EZIO_LAB_KVM !== '1') return false
  return fs.access('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK).then(() => true, () => false)
}

/**
 * A lab machine: a QEMU guest on a tap of the lab's switch that PXE-boots
 * (its NIC's iPXE ROM), with a blank disk. It powers off instead of
 * rebooting (-no-reboot), so that its end is QEMU's exit.
 */
export async function startGuest (net: Network, index: number, opts: { disk: string, log: string, memoryMiB: number, kvm: boolean, timeoutSeconds: number }): Promise<Guest> {
  const tap = await net.addTap(`tap${index}`)
  const mac = `52:54:00:99:00:${index.toString(16).padStart(2, '0')}`
  await fs.writeFile(opts.log, '')
  // UEFI, as most labs are now: OVMF's own PXE (no iPXE option ROM) gets
  // snponly.efi over TFTP from the proxy DHCP, which then fetches boot.ipxe
  // over HTTP: the whole chain a lab machine goes through.
  const vars = `${opts.disk}.OVMF_VARS.fd`
  await fs.copyFile('/usr/share/OVMF/OVMF_VARS_4M.fd', vars)
  const qemu = net.execSwitch('qemu-system-x86_64', [
    '-accel', opts.kvm ? 'kvm' : 'tcg', '-machine', 'q35',
    '-drive', 'if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
    '-drive', `if=pflash,format=raw,file=${vars}`,
    '-m', String(opts.memoryMiB), '-smp', '1', '-nodefaults',
    '-display', 'none', '-monitor', 'none', '-serial', `file:${opts.log}`, '-no-reboot',
    '-drive', `file=${opts.disk},format=raw,if=none,id=d0`, '-device', 'virtio-blk-pci,drive=d0',
    '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=n0,mac=${mac},romfile=,bootindex=1`
  ], { timeout: opts.timeoutSeconds * 1000, killSignal: 'SIGKILL', all: true, buffer: true })
  return { name: `pc-${String(index).padStart(2, '0')}`, mac, disk: opts.disk, log: opts.log, started: Date.now(), qemu }
}
