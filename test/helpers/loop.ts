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
