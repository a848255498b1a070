import { promises as fs } from 'node:fs'
import { EzioError } from '../engine/errors.ts'

interface Candidate { name: string, size: number, model: string, why?: string }

// Never a lab machine's own disk: virtual, stacked, optical and boot-partition devices.
const NOT_A_DISK = /^(loop|ram|zram|dm-|md|sr|nbd|fd|mmcblk\d+boot)/

/**
 * target "auto": the one internal disk that can hold the image. None or
 * several is a refusal that lists every disk seen and why it was left out,
 * because guessing wrong erases the wrong disk.
 */
export async function autoTarget (needed: number, sysBlock = '/sys/block'): Promise<string> {
  const seen: Candidate[] = []
  for (const name of (await fs.readdir(sysBlock).catch(() => [])).sort()) {
    const dir = `${sysBlock}/${name}`
    const size = Number(await read(`${dir}/size`)) * 512
    const model = (await read(`${dir}/device/model`)) || (await read(`${dir}/device/name`)) || ''
    const c: Candidate = { name, size, model }
    c.why = NOT_A_DISK.test(name) ? 'not a disk' : await notInternal(dir) ?? (size < needed ? `too small for ${needed} bytes` : undefined)
    seen.push(c)
  }
  const fit = seen.filter(c => !c.why)
  if (fit.length === 1) return `/dev/${fit[0]!.name}`
  const list = seen.map(c => `${c.name} ${(c.size / 1e9).toFixed(1)} GB${c.model ? ` ${c.model}` : ''}${c.why ? ` (${c.why})` : ''}`).join(', ') || 'none'
  throw new EzioError('noTarget', fit.length === 0
    ? `no internal disk can hold the image (${needed} bytes); disks seen: ${list}; set the target with ezio serve --target or ezio.target=`
    : `${fit.length} disks could be the target, ezio will not guess; disks seen: ${list}; set the target with ezio serve --target or ezio.target=`)
}

/** 'removable' or 'USB' for such a disk (or a partition of one) at sysfs DIR; undefined for an internal one. */
export async function notInternal (dir: string): Promise<string | undefined> {
  const real = await fs.realpath(dir).catch(() => dir)
  const disk = await fs.access(`${real}/partition`).then(() => `${real}/..`, () => real)
  if (await read(`${disk}/removable`) === '1') return 'removable'
  if (real.includes('/usb')) return 'USB'
  return undefined
}

async function read (file: string): Promise<string> {
  return (await fs.readFile(file, 'utf8').catch(() => '')).trim()
}
