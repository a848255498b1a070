// The tracker server of bittorrent-tracker, as server/tracker.ts uses it.
declare module 'bittorrent-tracker' {
  import { EventEmitter } from 'node:events'
  import type { IncomingMessage, ServerResponse, Server as HttpServer } from 'node:http'
  export interface ServerOptions {
    http?: boolean
    udp?: boolean
    ws?: boolean
    stats?: boolean
    interval?: number
    peersCacheTtl?: number
    trustProxy?: boolean
    filter?: (infoHash: string, params: Record<string, unknown>, cb: (err?: Error | null) => void) => void
  }
  export class Server extends EventEmitter {
    constructor(opts?: ServerOptions)
    onHttpRequest(req: IncomingMessage, res: ServerResponse, opts?: { action?: string, trustProxy?: boolean }): void
    close(cb?: () => void): void
    listen(port: number, hostname?: string | (() => void), cb?: () => void): void
    http: HttpServer | null
    /** The swarms by info hash (hex): what the tracker counts. */
    torrents: Record<string, { complete: number, incomplete: number, peers: { keys: string[] } } | undefined>
  }
  export default class Client extends EventEmitter {}
}
