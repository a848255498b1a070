import type { IncomingMessage, ServerResponse } from 'node:http'
import { machineIdOf, machineIdRule, macBytes } from '../protocol/machine-id.ts'
import type { App } from './app.ts'
import dashboardHtml from './dashboard.html'
import type { Handler, PatternRoute } from './http.ts'
import type { Machine } from './machines.ts'
import { readBody, send, sendJson, sendText } from './respond.ts'
import { roomTotals } from './room-totals.ts'

/** What the operator's dashboard reads (no token) and does (the operator token). */
export const operatorRoutes: Record<string, Handler> = {
  'GET /': (_app, _req, res) => send(res, 200, dashboardHtml, 'text/html; charset=utf-8'),
  'GET /api/machines': (app, _req, res) => sendJson(res, 200, app.machines.list()),
  'GET /api/images': (app, _req, res) => sendJson(res, 200, app.images.info()),
  'GET /api/room': (app, _req, res) => sendJson(res, 200, roomView(app)),
  'GET /api/events': streamEvents,
  'POST /api/control': operator(control),
  'POST /api/machines/accept': operator(app => app.machines.list().filter(m => m.state === 'waiting').map(m => app.machines.accept(m.id))),
  'POST /api/room/reimage': operator(app => app.machines.list().flatMap(m => app.machines.reimage(m.id) ?? [])),
  'POST /api/room/wake': operator(app => Promise.all(app.machines.list().filter(m => macBytes(m.id)).map(m => app.wake(m.id))))
}

type Action = (app: App, id: string, req: IncomingMessage) => Promise<unknown> | unknown

const actions: Record<string, Action> = {
  accept: (app, id) => app.machines.accept(id),
  reimage: (app, id) => app.machines.reimage(id) ?? notFound(id),
  wake: (app, id) => macBytes(id) ? app.wake(id) : refuse(400, `${id} is not a MAC address: Wake-on-LAN needs one`),
  image: assignImage
}

export const operatorPatterns: PatternRoute[] = [{
  method: 'POST',
  pattern: /^\/api\/machines\/([^/]+)\/(accept|reimage|wake|image)$/,
  handler: operator(async (app, req, params) => {
    const [raw, action] = params
    const id = machineIdOf(raw!)
    if (!id) throw new ActionError(400, `${raw} names no machine (${machineIdRule})`)
    return actions[action!]!(app, id, req)
  })
}]

/** A refused action: its status and one line. */
class ActionError extends Error {
  constructor (readonly status: number, message: string) { super(message) }
}

function refuse (status: number, message: string): never {
  throw new ActionError(status, message)
}

function notFound (id: string): never {
  return refuse(404, `no machine ${id} is known here`)
}

async function assignImage (app: App, id: string, req: IncomingMessage): Promise<Machine> {
  let image: unknown
  try {
    image = (JSON.parse(await readBody(req, 4096)) as { image?: unknown }).image
  } catch {
    throw new ActionError(400, 'the body is not JSON: send {"image": NAME}')
  }
  if (typeof image !== 'string' || !app.images.byName(image)) {
    throw new ActionError(400, `no image ${String(image)} here; images: ${app.images.list.map(i => i.name).join(', ')}`)
  }
  return app.machines.assign(id, image)
}

/** A route that needs the operator token (?token=) and answers with what RUN returns, as JSON. */
function operator (run: (app: App, req: IncomingMessage, params: string[], url: URL) => unknown): Handler {
  return async (app, req, res, url, params) => {
    if (url.searchParams.get('token') !== app.operatorToken) return sendText(res, 403, 'bad or missing operator token: use the dashboard URL printed at start')
    try {
      sendJson(res, 200, await run(app, req, params, url))
    } catch (err) {
      if (!(err instanceof ActionError)) throw err
      sendText(res, err.status, err.message)
    }
  }
}

function control (app: App, _req: IncomingMessage, _params: string[], url: URL): { paused: boolean } {
  const action = url.searchParams.get('action')
  if (action === 'pause') app.paused = true
  else if (action === 'resume') app.paused = false
  else throw new ActionError(400, `unknown action ${action}: pause or resume`)
  app.machines.log(action, '*')
  app.machines.emit('change')
  return { paused: app.paused }
}

export function roomView (app: App): object {
  const machines = app.machines.list()
  return { name: app.images.default.name, images: app.images.info(), paused: app.paused, machines, totals: roomTotals(machines), seeder: app.seederStats(), now: Date.now() }
}

// Server-sent events: the dashboard updates by itself, once a second at most.
function streamEvents (app: App, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
  const push = (): void => { res.write(`data: ${JSON.stringify(roomView(app))}\n\n`) }
  push()
  const timer = setInterval(push, 1000)
  req.on('close', () => clearInterval(timer))
}
