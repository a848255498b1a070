import { promises as fs } from 'node:fs'
import { PINNED_SERVER_PATH, type PinnedServer } from '../protocol/signature.ts'

/**
 * What ezio serve appends to the built initrd: a second cpio archive (newc,
 * uncompressed) holding the server's public key at /etc/ezio/server.json.
 * The kernel unpacks concatenated archives one after the other, so every
 * server pins its own key without a rebuild, and dist/netboot/initrd.img
 * stays the one archive the build made.
 */
export function pinnedKeyArchive (pinned: PinnedServer): Buffer {
  const dirs = PINNED_SERVER_PATH.split('/').slice(0, -1).map((_, i, all) => all.slice(0, i + 1).join('/'))
  return Buffer.concat([
    ...dirs.map((d, i) => entry(d, 0o040755, Buffer.alloc(0), i + 1)),
    entry(PINNED_SERVER_PATH, 0o100644, Buffer.from(JSON.stringify(pinned) + '\n'), dirs.length + 1),
    entry('TRAILER!!!', 0, Buffer.alloc(0), 0)
  ])
}

// One newc entry (the kernel's buffer-format.rst): a 110-byte header of hex
// fields, the name with its NUL, the data, each padded to 4 bytes.
function entry (name: string, mode: number, data: Buffer, ino: number): Buffer {
  const nameBytes = Buffer.from(name + '\0')
  const fields = [ino, mode, 0, 0, mode & 0o040000 ? 2 : 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0]
  const header = Buffer.from('070701' + fields.map(f => f.toString(16).padStart(8, '0')).join(''), 'ascii')
  return Buffer.concat([header, nameBytes, pad(header.length + nameBytes.length), data, pad(data.length)])
}

function pad (n: number): Buffer {
  return Buffer.alloc((4 - n % 4) % 4)
}

/**
 * What follows a built initrd of SIZE bytes: zeros up to a 4-byte boundary
 * (the kernel takes an uncompressed archive only there, and skips zeros
 * before it), then the key's ARCHIVE.
 */
export function initrdTail (size: number, archive: Buffer): Buffer {
  return Buffer.concat([pad(size), archive])
}

/** The initrd as served, as a file: for the TFTP root (GRUB's Secure Boot path loads the initrd over TFTP). */
export async function writeInitrd (file: string, archive: Buffer, to: string): Promise<void> {
  await fs.copyFile(file, to)
  await fs.appendFile(to, initrdTail((await fs.stat(file)).size, archive))
  await fs.chmod(to, 0o644)
}
