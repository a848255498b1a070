import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { DeviceInfo } from './device.ts'

// A disk counts as in use when it, any partition of it, or any device stacked
// on it (dm, md) is mounted or swapped on; for an image file, when a loop
// device backed by it is. Returns what is using it, for the error message.
export async function inUseBy (dev: DeviceInfo): Promise<string | undefined> {
  const devnos = dev.kind === 'block' && dev.devno
    ? await relatedDevnos(dev.devno)
    : await loopDevnosBackedBy(dev.path)
  if (devnos.size === 0) return undefined
  const mounts = await readLines('/proc/self/mountinfo')
  for (const line of mounts) {
    const fields = line.split(' ')
    const devno = fields[2]
    if (devno && devnos.has(devno)) return `mounted at ${fields[4]}`
  }
  const names = new Set<string>()
  for (const devno of devnos) names.add(await devName(devno))
  for (const line of (await readLines('/proc/swaps')).slice(1)) {
    const swap = line.split(/\s+/)[0]
    if (swap && names.has(path.basename(swap))) return `used as swap (${swap})`
  }
  return undefined
}

async function relatedDevnos (devno: string): Promise<Set<string>> {
  const found = new Set<string>([devno])
  const sysdir = await fs.realpath(`/sys/dev/block/${devno}`)
  for (const entry of await listDir(sysdir)) {
    const partDev = await readTrim(path.join(sysdir, entry, 'dev'))
    if (partDev && await exists(path.join(sysdir, entry, 'partition'))) found.add(partDev)
  }
  for (const dir of [...found].map(d => `/sys/dev/block/${d}/holders`)) {
    for (const holder of await listDir(dir)) {
      const holderDev = await readTrim(`/sys/class/block/${holder}/dev`)
      if (holderDev) found.add(holderDev)
    }
  }
  return found
}

async function loopDevnosBackedBy (file: string): Promise<Set<string>> {
  const found = new Set<string>()
  const real = await fs.realpath(file).catch(() => file)
  for (const name of await listDir('/sys/block')) {
    if (!name.startsWith('loop')) continue
    const backing = await readTrim(`/sys/block/${name}/loop/backing_file`)
    if (backing !== real) continue
    const devno = await readTrim(`/sys/block/${name}/dev`)
    if (devno) for (const d of await relatedDevnos(devno)) found.add(d)
  }
  return found
}

async function devName (devno: string): Promise<string> {
  return path.basename(await fs.realpath(`/sys/dev/block/${devno}`).catch(() => devno))
}

async function readLines (file: string): Promise<string[]> {
  return (await fs.readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean)
}

async function readTrim (file: string): Promise<string | undefined> {
  return (await fs.readFile(file, 'utf8').catch(() => undefined))?.trim()
}

async function listDir (dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => [])
}

async function exists (file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false)
}
