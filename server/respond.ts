import { createReadStream, promises as fs } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'

export async function serveFile (res: ServerResponse, file: string): Promise<void> {
  let size: number
  try {
    size = (await fs.stat(file)).size
  } catch {
    return send(res, 404, `${file} is missing: run make netboot, or pass --netboot DIR\n`, 'text/plain')
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
  createReadStream(file).pipe(res)
}

export function readBody (req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
      if (body.length > limit) { reject(new Error('body too large')); req.destroy() }
    })
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

export function send (res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

export function sendText (res: ServerResponse, status: number, line: string): void {
  send(res, status, line + '\n', 'text/plain')
}

export function sendJson (res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value) + '\n', 'application/json')
}
