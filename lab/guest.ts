import { promises as fs } from 'node:fs'
import type { ResultPromise } from 'execa'
import type { Network } from './netns.ts'

export interface Guest {
  name: string
  mac: string
  firmware: Firmware
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

/** What a lab PC boots with: BIOS PXE, UEFI PXE, or UEFI PXE with Secure Boot on. */
export type Firmware = 'bios' | 'uefi' | 'secureboot'
export const firmwares: readonly Firmware[] = ['bios', 'uefi', 'secureboot']

/**
 * A lab machine: a QEMU guest on a tap of the lab's switch that PXE-boots
 * with a blank disk. It powers off instead of rebooting (-no-reboot), so
 * that its end is QEMU's exit.
 */
export async function startGuest (net: Network, index: number, opts: { disk: string, log: string, memoryMiB: number, kvm: boolean, timeoutSeconds: number, firmware: Firmware }): Promise<Guest> {
  const tap = await net.addTap(`tap${index}`)
  const mac = `52:54:00:99:00:${index.toString(16).padStart(2, '0')}`
  await fs.writeFile(opts.log, '')
  const qemu = net.execSwitch('qemu-system-x86_64', [
    '-accel', opts.kvm ? 'kvm' : 'tcg', ...await firmwareArgs(opts.firmware, opts.disk),
    '-m', String(opts.memoryMiB), '-smp', '1', '-nodefaults',
    '-vga', 'std', '-display', 'none', '-monitor', `unix:${opts.disk}.monitor,server,nowait`, '-serial', `file:${opts.log}`, '-no-reboot',
    '-drive', `file=${opts.disk},format=raw,if=none,id=d0`, '-device', 'virtio-blk-pci,drive=d0',
    '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`,
    '-device', nicOf(opts.firmware, mac)
  ], { timeout: opts.timeoutSeconds * 1000, killSignal: 'SIGKILL', all: true, buffer: true })
  return { name: `pc-${String(index).padStart(2, '0')}`, mac, firmware: opts.firmware, disk: opts.disk, log: opts.log, started: Date.now(), qemu }
}

/**
 * UEFI: OVMF's own PXE (no iPXE option ROM) gets its first stage over TFTP,
 * as a lab PC's firmware does. Secure Boot: OVMF's Secure Boot build with
 * Microsoft's keys enrolled, as on a PC sold with Windows (q35 with SMM).
 * BIOS: SeaBIOS on QEMU's i440fx.
 */
async function firmwareArgs (firmware: Firmware, disk: string): Promise<string[]> {
  if (firmware === 'bios') return ['-machine', 'pc']
  const secure = firmware === 'secureboot'
  const vars = `${disk}.OVMF_VARS.fd`
  await fs.copyFile(secure ? '/usr/share/OVMF/OVMF_VARS_4M.ms.fd' : '/usr/share/OVMF/OVMF_VARS_4M.fd', vars)
  return ['-machine', secure ? 'q35,smm=on' : 'q35', ...(secure ? ['-global', 'driver=cfi.pflash01,property=secure,value=on'] : []),
    '-drive', `if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M${secure ? '.secboot' : ''}.fd`,
    '-drive', `if=pflash,format=raw,file=${vars}`]
}

/**
 * BIOS: an Intel e1000, the most common NIC of older lab PCs, with QEMU's
 * PXE ROM. That ROM is iPXE itself, which says so to DHCP; boot.ipxe sends
 * it to undionly.kpxe over TFTP first (server/ipxe.ts), so that the chain a
 * PC's own PXE ROM runs is the one that runs here. UEFI: no option ROM.
 */
function nicOf (firmware: Firmware, mac: string): string {
  return firmware === 'bios' ? `e1000,netdev=n0,mac=${mac},bootindex=1` : `virtio-net-pci,netdev=n0,mac=${mac},romfile=,bootindex=1`
}
