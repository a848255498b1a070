import { promises as fs } from 'node:fs'
import path from 'node:path'
import { imageNameRule } from '../protocol/capture.ts'

/** An image of the store: its torrent as made (its payload is payloadOf(its info hash)). */
export interface StoredEntry {
  name: string
  torrent: Uint8Array
}

/** A capture that was being received when the server last stopped. */
export interface Interrupted {
  name: string
  startedAt: number
}

/**
 * The image store (`ezio serve --images DIR`, docs/capture.md):
 * - NAME.torrent: one per image; its presence is what lists the image, and
 *   it is renamed into place last, after its payload is on disk;
 * - payloads/INFOHASH.ezio-zstd: the payload the torrent describes, seeded
 *   as it is (no raw image is kept: the pieces are what travels);
 * - incoming/: captures being received. Nothing there is ever listed, and a
 *   start wipes it, so an interrupted capture leaves no image behind.
 */
export class ImageStore {
  constructor (readonly dir: string) {}

  private get payloads (): string { return path.join(this.dir, 'payloads') }
  private get incomingDir (): string { return path.join(this.dir, 'incoming') }

  /** The stored images; what was left half-received is dropped, and said. */
  async open (): Promise<{ entries: StoredEntry[], interrupted: Interrupted[] }> {
    await fs.mkdir(this.payloads, { recursive: true })
    await fs.mkdir(this.incomingDir, { recursive: true })
    const interrupted: Interrupted[] = []
    for (const f of await fs.readdir(this.incomingDir)) {
      if (f.endsWith('.json')) {
        const note = await fs.readFile(path.join(this.incomingDir, f), 'utf8').then(t => JSON.parse(t) as Interrupted).catch(() => undefined)
        if (note) interrupted.push(note)
      }
      await fs.rm(path.join(this.incomingDir, f), { force: true, recursive: true })
    }
    const entries: StoredEntry[] = []
    for (const f of (await fs.readdir(this.dir)).sort()) {
      const name = f.slice(0, -'.torrent'.length)
      if (!f.endsWith('.torrent') || !imageNameRule.test(name)) continue
      entries.push({ name, torrent: await fs.readFile(path.join(this.dir, f)) })
    }
    return { entries, interrupted }
  }

  payloadOf (infoHash: string): string {
    return path.join(this.payloads, `${infoHash}.ezio-zstd`)
  }

  /** Payloads no listed image uses (a replaced image's, a crash between the two renames): removed. */
  async dropUnused (used: Set<string>): Promise<void> {
    for (const f of await fs.readdir(this.payloads)) {
      if (!used.has(path.join(this.payloads, f))) await fs.rm(path.join(this.payloads, f), { force: true })
    }
  }

  /** Where capture ID is received, and the note that says so if the server stops meanwhile. */
  async incoming (id: string, note: Interrupted): Promise<string> {
    await fs.writeFile(path.join(this.incomingDir, `${id}.json`), JSON.stringify(note) + '\n')
    return path.join(this.incomingDir, `${id}.payload`)
  }

  async dropIncoming (id: string): Promise<void> {
    await fs.rm(path.join(this.incomingDir, `${id}.payload`), { force: true })
    await fs.rm(path.join(this.incomingDir, `${id}.json`), { force: true })
  }

  /**
   * Capture ID becomes image NAME: its payload (synced by the receiver) goes
   * under payloads/, then the torrent is written and renamed into place, so a
   * power cut leaves either the old listing or the new one, never a torrent
   * without its payload.
   */
  async install (id: string, name: string, infoHash: string, torrent: Uint8Array): Promise<string> {
    const payload = this.payloadOf(infoHash)
    await fs.rename(path.join(this.incomingDir, `${id}.payload`), payload)
    const tmp = path.join(this.incomingDir, `${id}.torrent`)
    const out = await fs.open(tmp, 'w')
    try {
      await out.writeFile(torrent)
      await out.sync()
    } finally {
      await out.close()
    }
    await fs.rename(tmp, path.join(this.dir, `${name}.torrent`))
    await syncDir(this.dir)
    await syncDir(this.payloads)
    await fs.rm(path.join(this.incomingDir, `${id}.json`), { force: true })
    return payload
  }

  /** Bytes a capture may still fill. */
  async free (): Promise<number> {
    const s = await fs.statfs(this.dir)
    return s.bavail * s.bsize
  }
}

async function syncDir (dir: string): Promise<void> {
  const h = await fs.open(dir, 'r')
  try {
    await h.sync()
  } finally {
    await h.close()
  }
}
