import http from 'node:http'
import net from 'node:net'

/**
 * A TCP port free on loopback right now, below the kernel's ephemeral range
 * (32768 and up): a port that listen(0) picks is one that any outgoing
 * connection of a swarm may take as its own before the server under test
 * binds it (seen: "port … is in use" in CI).
 */
export async function freePort (host = '127.0.0.1'): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = 20000 + Math.floor(Math.random() * 12000)
    if (await canListen(host, port)) return port
  }
  throw new Error('no free TCP port found between 20000 and 32000')
}

function canListen (host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const srv = net.createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, host, () => srv.close(() => resolve(true)))
  })
}

export async function waitFor<T> (what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

/** GET PATH from a server on loopback PORT with the Host header a remote machine would send (fetch() sets its own). */
export function getAs (port: number, host: string, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { host } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(Buffer.concat(chunks)))
    }).on('error', reject)
  })
}
