import type { IncomingMessage, ServerResponse } from 'node:http'

/** Open event streams at most: a few operators' tabs and screens, not a flood. */
export const MOST_BROWSERS = 64

/**
 * Server-sent events for every open dashboard from one timer: the room's
 * view is made and serialised once a tick when something changed since the
 * last (rates and times move with the reports), else every 5 ticks, then
 * written to each browser. A browser's first frame is the whole view (the
 * throughput chart's points with it); later ones carry the newest point
 * only. With no browser open the timer stops. At most MOST_BROWSERS at
 * once: past that a new one is refused (503) and the rest of the server
 * answers as before.
 */
export class RoomEvents {
  private readonly clients = new Set<ServerResponse>()
  private timer: NodeJS.Timeout | undefined
  private changed = true
  private quietTicks = 0

  constructor (private readonly view: (whole: boolean) => object, private readonly everyMs = 1000, private readonly most = MOST_BROWSERS) {}

  /** Something the view shows has changed: the next tick sends it. */
  touch (): void {
    this.changed = true
  }

  add (req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= this.most) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10' })
      res.end(`${this.most} dashboards are open on this server already: close one, or use GET /api/room\n`)
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
    res.write(this.frame(true))
    this.clients.add(res)
    req.on('close', () => {
      this.clients.delete(res)
      if (this.clients.size === 0) this.stop()
    })
    this.timer ??= setInterval(() => this.tick(), this.everyMs)
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private tick (): void {
    // A quiet room is sent now and then too: a machine that stopped
    // reporting is seen to stall, and proxies keep the stream open.
    if (!this.changed && ++this.quietTicks < 5) return
    this.changed = false
    this.quietTicks = 0
    const frame = this.frame(false)
    for (const res of this.clients) res.write(frame)
  }

  private frame (whole: boolean): string {
    return `data: ${JSON.stringify(this.view(whole))}\n\n`
  }
}
