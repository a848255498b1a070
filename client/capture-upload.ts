import { once } from 'node:events'
import http from 'node:http'
import { EzioError } from '../engine/errors.ts'
import { FRAME_PIECE, FRAME_TORRENT, frameHeader, type CaptureRequest, type CaptureStarted } from '../protocol/capture.ts'

/** What the server said of a finished capture. */
export interface CaptureStored {
  name: string
  infoHash: string
  payload: number
}

/** One line of the server's answer, for a message. */
function firstLine (text: string, fallback: string): string {
  return text.trim().split('\n')[0] || fallback
}

/**
 * POST SERVER/api/captures: the server checks token, name and free space
 * before the disk is read (nothing else is sent until it says yes).
 */
export async function startCapture (server: string, token: string, request: CaptureRequest): Promise<CaptureStarted> {
  let res: Response
  try {
    res = await fetch(`${server}/api/captures?token=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(30_000)
    })
  } catch (err) {
    throw new EzioError('network', `cannot reach ${server} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}): is ezio serve running there?`)
  }
  const text = await res.text()
  if (res.status === 201) return JSON.parse(text) as CaptureStarted
  throw new EzioError(res.status >= 500 && res.status !== 507 ? 'network' : 'refused', `the server refuses the capture: ${firstLine(text, `HTTP ${res.status}`)}`)
}

/**
 * The capture's one streamed request: each piece as a frame, as it is made
 * (backpressure from the socket paces the reading of the disk), then the
 * torrent. The server answers once the image is in its store.
 */
export class CaptureUpload {
  private readonly req: http.ClientRequest
  private readonly answer: Promise<{ status: number, text: string }>
  private failed?: Error

  constructor (url: string) {
    this.req = http.request(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' } })
    this.answer = new Promise((resolve, reject) => {
      this.req.on('response', res => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => { if (text.length < 4096) text += chunk })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        res.on('error', reject)
      })
      this.req.on('error', err => { this.failed = err; reject(err) })
    })
    // Read when it fails: a refusal mid-way is said by the answer, not the write.
    this.answer.catch(() => {})
  }

  async piece (bytes: Buffer, rawDone: number): Promise<void> {
    await this.frame(FRAME_PIECE, Buffer.from(bytes), rawDone)
  }

  async finish (torrent: Uint8Array, rawDone: number): Promise<CaptureStored> {
    await this.frame(FRAME_TORRENT, Buffer.from(torrent), rawDone)
    this.req.end()
    // Everything was sent: whether the server stored it before the connection broke is its to say.
    const { status, text } = await this.answer.catch((err: Error) => {
      throw new EzioError('network', `the connection to the server broke off after the whole capture was sent (${err.message}): the dashboard (GET /api/images) says whether it was stored; if not, capture again`)
    })
    if (status === 201) return JSON.parse(text) as CaptureStored
    throw new EzioError('refused', `the server did not store the capture: ${firstLine(text, `HTTP ${status}`)}`)
  }

  /** Stops the upload: the server drops what it received. */
  abort (): void {
    this.req.destroy()
  }

  private async frame (kind: number, bytes: Buffer, rawDone: number): Promise<void> {
    if (this.failed) throw this.lost(this.failed)
    this.req.write(frameHeader(kind, bytes.length, rawDone))
    if (!this.req.write(bytes)) {
      await Promise.race([once(this.req, 'drain'), this.answer.then(a => { throw new EzioError('refused', `the server stopped the capture: ${firstLine(a.text, `HTTP ${a.status}`)}`) })])
        .catch((err: Error) => { throw err instanceof EzioError ? err : this.lost(err) })
    }
  }

  private lost (err: Error): EzioError {
    return new EzioError('network', `the upload to the server broke off (${err.message}): nothing was stored; capture again`)
  }
}
