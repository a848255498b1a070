import type { IncomingMessage, ServerResponse } from 'node:http'
import type { App } from './app.ts'
import { capturePatterns, captureRoutes } from './capture-routes.ts'
import { machineRoutes } from './machine-routes.ts'
import { operatorPatterns, operatorRoutes } from './operator-routes.ts'
import { Refusal, send } from './respond.ts'

export type Handler = (app: App, req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => void | Promise<void>

/** A route whose path has parts in it: PATTERN's groups become the handler's params. */
export interface PatternRoute {
  method: string
  pattern: RegExp
  handler: Handler
}

const routes: Record<string, Handler> = { ...machineRoutes, ...operatorRoutes, ...captureRoutes }

export function handler (app: App): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://x')
    } catch {
      return send(res, 400, 'that is not a URL\n', 'text/plain')
    }
    const [route, params] = find(app, req.method ?? 'GET', url.pathname)
    if (!route) return send(res, 404, `no such page: ${req.method} ${url.pathname}\n`, 'text/plain')
    // A handler that throws at once is answered as one whose promise fails.
    new Promise<void>(resolve => resolve(route(app, req, res, url, params))).catch((err: unknown) => {
      if (res.headersSent) res.destroy()
      else if (err instanceof Refusal) send(res, err.status, err.message + '\n', 'text/plain')
      else send(res, 500, `ezio serve: ${(err as Error).message}\n`, 'text/plain')
    })
  }
}

function find (app: App, method: string, pathname: string): [Handler | undefined, string[]] {
  const exact = routes[`${method} ${pathname}`]
  if (exact) return [exact, []]
  // Each image's torrent under its own name.
  const torrent = /^\/([A-Za-z0-9._-]+)\.torrent$/.exec(pathname)
  if (method === 'GET' && torrent && app.images.byName(torrent[1]!)) return [machineRoutes['GET /ezio.torrent'], [torrent[1]!]]
  for (const r of [...operatorPatterns, ...capturePatterns]) {
    const m = r.method === method ? r.pattern.exec(pathname) : null
    if (m) return [r.handler, m.slice(1).map(decoded)]
  }
  return [undefined, []]
}

// A malformed %-escape stays as it is: the handler then refuses the name it makes.
function decoded (part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}
