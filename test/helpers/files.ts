import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'

/** A fresh directory removed when the test ends. */
export async function tempDir (t: Test, prefix = 'ezio-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  return dir
}

/** A file of SIZE random bytes. */
export async function randomImage (file: string, size: number): Promise<string> {
  const fh = await fs.open(file, 'w')
  const chunk = 4 * 1024 * 1024
  for (let done = 0; done < size; done += chunk) {
    await fh.write(randomBytes(Math.min(chunk, size - done)))
  }
  await fh.close()
  return file
}

/** A sparse file of SIZE bytes (a blank disk). */
export async function blankFile (file: string, size: number): Promise<string> {
  const fh = await fs.open(file, 'w')
  await fh.truncate(size)
  await fh.close()
  return file
}

export async function sha256 (file: string, length?: number): Promise<string> {
  const hash = createHash('sha256')
  const stream = createReadStream(file, length === undefined ? {} : { start: 0, end: length - 1 })
  for await (const chunk of stream) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/**
 * A file of SIZE bytes that compresses about as a system disk does: runs of
 * words (text, code), stretches of random bytes (compressed files) and of
 * zeros (free space), the same for the same SEED.
 */
export async function compressibleImage (file: string, size: number, seed = 1): Promise<string> {
  const words = ['lab', 'disk', 'clone', 'piece', 'frame', 'boot', 'kernel', 'initramfs', 'peer', 'seed', 'room', '\n', '{', '}', 'return', 'const']
  const fh = await fs.open(file, 'w')
  const chunk = Buffer.alloc(1024 * 1024)
  let state = seed
  const next = (): number => { state = (state * 1103515245 + 12345) & 0x7fffffff; return state }
  for (let done = 0; done < size; done += chunk.length) {
    const kind = (next() >> 16) % 8
    if (kind < 5) {
      for (let at = 0; at < chunk.length;) at += chunk.write(words[next() % words.length]! + ' ', at)
    } else if (kind < 7) {
      randomBytes(chunk.length).copy(chunk)
    } else {
      chunk.fill(0)
    }
    await fh.write(chunk, 0, Math.min(chunk.length, size - done))
  }
  await fh.close()
  return file
}
