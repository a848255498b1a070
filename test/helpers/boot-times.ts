import { promises as fs } from 'node:fs'
import path from 'node:path'
import { root } from './paths.ts'

/** Notes how long a boot path took to reach the client, in test/artifacts/boot-times.txt, for the closing notes and a person. */
export async function noteBootTime (bootPath: string, ms: number): Promise<void> {
  const dir = path.join(root, 'test/artifacts')
  await fs.mkdir(dir, { recursive: true })
  await fs.appendFile(path.join(dir, 'boot-times.txt'), `${new Date().toISOString()}  ${bootPath.padEnd(40)} QEMU start -> client start ${(ms / 1000).toFixed(1)} s\n`)
}
