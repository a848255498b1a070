import { promises as fs } from 'node:fs'
import type { DeviceInfo } from '../engine/disk/device.ts'

/** A disk as the admin in front of the machine recognises it: model, serial number, size. */
export interface DiskLabel {
  model?: string
  serial?: string
  size: number
}

/** What sysfs says of the disk (SATA, SCSI, NVMe, virtio); an image file has only its size. */
export async function diskLabel (info: DeviceInfo): Promise<DiskLabel> {
  if (info.kind !== 'block' || !info.devno) return { size: info.size }
  const dir = `/sys/dev/block/${info.devno}`
  const model = [await read(`${dir}/device/vendor`), await read(`${dir}/device/model`)].filter(s => s && s !== 'ATA').join(' ')
  const serial = await read(`${dir}/serial`) || await read(`${dir}/device/serial`) || await vpdSerial(`${dir}/device/vpd_pg80`)
  return { model: model || undefined, serial: serial || undefined, size: info.size }
}

export function describeLabel (label: DiskLabel): string {
  return [label.model, label.serial ? `serial ${label.serial}` : undefined, `${(label.size / 1e9).toFixed(1)} GB (${label.size} bytes)`].filter(Boolean).join(', ')
}

async function read (file: string): Promise<string> {
  return (await fs.readFile(file, 'utf8').catch(() => '')).replace(/\0/g, '').trim()
}

// SCSI and SATA disks give their serial number in VPD page 0x80: four
// header bytes, then the number in ASCII.
async function vpdSerial (file: string): Promise<string> {
  const page = await fs.readFile(file).catch(() => undefined)
  return page && page.length > 4 ? page.subarray(4).toString('latin1').replace(/[^\x20-\x7e]/g, '').trim() : ''
}
