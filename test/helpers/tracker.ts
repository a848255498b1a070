import { Server } from 'bittorrent-tracker'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface Tracker {
  server: Server
  announce: string
}

/**
 * A real HTTP BitTorrent tracker on loopback (bittorrent-tracker's Server),
 * closed when the test ends. A short announce interval keeps swarms in tests
 * from waiting on the tracker.
 */
export async function startTracker (t: Test, opts: { host?: string, intervalMs?: number } = {}): Promise<Tracker> {
  const host = opts.host ?? '127.0.0.1'
  const server = new Server({ udp: false, ws: false, stats: false, interval: opts.intervalMs ?? 5000 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  t.teardown(() => new Promise<void>(resolve => {
    server.http?.closeAllConnections()
    server.close(() => resolve())
  }))
  const { port } = server.http!.address() as AddressInfo
  return { server, announce: `http://${host}:${port}/announce` }
}
