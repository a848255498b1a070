import { createReadStream, promises as fs } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** FILE, then what AFTER gives for its size (the initrd's key archive). */
export async function serveFile (res: ServerResponse, file: string, after: (size: number) => Buffer = () => Buffer.alloc(0)): Promise<void> {
  let size: number
  try {
    size = (await fs.stat(file)).size
  } catch {
    return send(res, 404, `${file} is missing: run make netboot, or pass --netboot DIR\n`, 'text/plain')
  }
  const tail = after(size)
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size + tail.length })
  const stream = createReadStream(file)
  stream.on('end', () => res.end(tail))
  stream.on('error', () => res.destroy())
  stream.pipe(res, { end: false })
}

/** A request refused with STATUS and one line: thrown by a handler, answered by http.ts. */
export class Refusal extends Error {
  constructor (readonly status: number, message: string) { super(message) }
}

/** The body as text, refused (413) past LIMIT bytes: the rest is never read. */
export function readBody (req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    const onData = (chunk: string): void => {
      body += chunk
      if (body.length <= limit) return
      req.off('data', onData)
      req.pause()
      reject(new Refusal(413, `the body is over ${limit} bytes`))
    }
    req.on('data', onData)
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

export function send (res: ServerResponse, status: number, body: string, type: string): void {
  // A refused body is left unread: the connection cannot carry another request.
  const close = status === 413 ? { connection: 'close' } : {}
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...close })
  res.end(body)
}

export function sendText (res: ServerResponse, status: number, line: string): void {
  send(res, status, line + '\n', 'text/plain')
}

export function sendJson (res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value) + '\n', 'application/json')
}
