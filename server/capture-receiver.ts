import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { MAX_TORRENT_BYTES } from '../engine/torrent/piece-size.ts'
import { FRAME_HEADER, FRAME_PIECE, FRAME_TORRENT, readFrameHeader, type FrameHead } from '../protocol/capture.ts'

/** What one capture's request body held, checked frame by frame as it came. */
export interface Received {
  /** SHA-1 of each piece, hex, as the torrent must list them. */
  hashes: string[]
  length: number
  torrent: Buffer
}

/** The body is not a capture's: said to the client (400) and on the dashboard. */
export class BadUpload extends Error {}

/** A connection that sends nothing for this long is taken for gone. */
export const IDLE_MS = 60_000

/**
 * Reads REQ's frames (protocol/capture.ts) into FILE: each piece written at
 * its place and hashed on the way, so the torrent that ends the body can be
 * checked against what arrived without reading the payload again. Only the
 * last piece may be shorter than PIECELENGTH; past MOST bytes (what the
 * free-space check let in) the upload is refused.
 */
export async function receiveFrames (req: IncomingMessage, file: string, pieceLength: number, most: number, onProgress: (rawDone: number, received: number) => void): Promise<Received> {
  req.setTimeout(IDLE_MS, () => req.destroy(new Error(`nothing arrived for ${IDLE_MS / 1000} s`)))
  const out = await fs.open(file, 'w')
  const queue = new ByteQueue()
  const hashes: string[] = []
  let length = 0
  let rawDone = 0
  let head: FrameHead | undefined
  let torrent: Buffer | undefined
  let short = false
  try {
    // Not destroyed on a refusal: the client is still told why (400).
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      queue.push(chunk)
      for (;;) {
        if (!head) {
          if (queue.length < FRAME_HEADER) break
          head = readFrameHeader(queue.take(FRAME_HEADER))
          if (torrent) throw new BadUpload('data came after the torrent')
          checkFrame(head, pieceLength, short, rawDone)
          if (head.kind === FRAME_PIECE && length + head.length > most) throw new BadUpload(`the payload grew past the ${most} bytes the capture asked room for`)
        }
        if (queue.length < head.length) break
        const bytes = queue.take(head.length)
        rawDone = head.rawDone
        if (head.kind === FRAME_TORRENT) {
          torrent = bytes
        } else {
          short = bytes.length < pieceLength
          hashes.push(createHash('sha1').update(bytes).digest('hex'))
          await out.write(bytes, 0, bytes.length, length)
          length += bytes.length
          onProgress(rawDone, length)
        }
        head = undefined
      }
    }
    if (!torrent || head || queue.length > 0) throw new BadUpload(`the upload ended before its torrent, after ${length} bytes`)
    // On disk before it is listed: the torrent is renamed into place next.
    await out.sync()
  } finally {
    await out.close()
  }
  return { hashes, length, torrent }
}

function checkFrame (head: FrameHead, pieceLength: number, short: boolean, rawDone: number): void {
  if (head.kind === FRAME_PIECE) {
    if (short) throw new BadUpload('a piece came after the short last one')
    if (head.length === 0 || head.length > pieceLength) throw new BadUpload(`a piece of ${head.length} bytes, for pieces of ${pieceLength}`)
  } else if (head.kind === FRAME_TORRENT) {
    if (head.length === 0 || head.length > MAX_TORRENT_BYTES) throw new BadUpload(`a torrent of ${head.length} bytes`)
  } else {
    throw new BadUpload(`a frame of unknown kind ${head.kind}`)
  }
  if (head.rawDone < rawDone) throw new BadUpload('the raw progress went back')
}

/** Chunks as they come off the socket, taken in frames of any size without copying them all up front. */
class ByteQueue {
  private chunks: Buffer[] = []
  length = 0

  push (chunk: Buffer): void {
    this.chunks.push(chunk)
    this.length += chunk.length
  }

  take (n: number): Buffer {
    const parts: Buffer[] = []
    let need = n
    while (need > 0) {
      const first = this.chunks[0]!
      if (first.length <= need) {
        parts.push(first)
        this.chunks.shift()
        need -= first.length
      } else {
        parts.push(first.subarray(0, need))
        this.chunks[0] = first.subarray(need)
        need = 0
      }
    }
    this.length -= n
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n)
  }
}
