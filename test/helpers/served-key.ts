import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { netbootDir } from './qemu.ts'

/**
 * The initrd SERVER serves, saved as DIR/initrd.img, and the key file that
 * its second archive carries, unpacked by GNU cpio as DIR/etc/ezio/server.json.
 */
export async function servedInitrd (server: string, dir: string): Promise<{ initrd: string, pinned: string }> {
  await fs.mkdir(dir, { recursive: true })
  const served = Buffer.from(await (await fetch(`${server}/boot/initrd.img`)).arrayBuffer())
  const initrd = path.join(dir, 'initrd.img')
  await fs.writeFile(initrd, served)
  const built = (await fs.stat(path.join(netbootDir, 'initrd.img'))).size
  const tail = served.subarray(built).subarray(served.subarray(built).indexOf('070701'))
  await execa('cpio', ['-idm', '--quiet'], { input: tail, cwd: dir })
  return { initrd, pinned: path.join(dir, 'etc/ezio/server.json') }
}
