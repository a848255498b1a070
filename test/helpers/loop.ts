import { execa } from 'execa'
import type { Test } from 'tap'

/** Attaches FILE to a loop device (detached when the test ends); tests never touch a real disk. */
export async function loopDevice (t: Test, file: string, opts: { offset?: number, sizelimit?: number } = {}): Promise<string> {
  const args = ['-f', '--show']
  if (opts.offset !== undefined) args.push('-o', String(opts.offset))
  if (opts.sizelimit !== undefined) args.push('--sizelimit', String(opts.sizelimit))
  const { stdout } = await execa('losetup', [...args, file])
  const dev = stdout.trim()
  t.teardown(async () => { await execa('losetup', ['-d', dev], { reject: false }) })
  return dev
}

/**
 * Runs FN on a loop device over FILE and detaches it as soon as FN is done,
 * so that what FN wrote is in FILE before anything else reads it (also
 * detached when the test ends, if FN threw).
 */
export async function withLoopDevice<T> (t: Test, file: string, opts: { offset?: number, sizelimit?: number }, fn: (dev: string) => Promise<T>): Promise<T> {
  const args = ['-f', '--show']
  if (opts.offset !== undefined) args.push('-o', String(opts.offset))
  if (opts.sizelimit !== undefined) args.push('--sizelimit', String(opts.sizelimit))
  const dev = (await execa('losetup', [...args, file])).stdout.trim()
  let attached = true
  const detach = async (): Promise<void> => {
    if (!attached) return
    attached = false
    await execa('losetup', ['-d', dev], { reject: false })
  }
  t.teardown(detach)
  try {
    return await fn(dev)
  } finally {
    await detach()
  }
}
