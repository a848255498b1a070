import type { IncomingMessage } from 'node:http'
import { imageNameError, isImageName } from '../protocol/capture.ts'
import { machineIdOf, machineIdRule, macBytes } from '../protocol/machine-id.ts'
import type { App } from './app.ts'
import { nameInUse } from './capture-routes.ts'
import dashboardHtml from './dashboard.html'
import type { Handler, PatternRoute } from './http.ts'
import { NameTaken, type Machine } from './machines.ts'
import { readBody, Refusal, send, sendJson, sendText } from './respond.ts'
import { roomTotals } from './room-totals.ts'

/** What the operator's dashboard reads (no token) and does (the operator token). */
export const operatorRoutes: Record<string, Handler> = {
  'GET /': (_app, _req, res) => send(res, 200, dashboardHtml, 'text/html; charset=utf-8'),
  'GET /api/machines': (app, _req, res) => sendJson(res, 200, app.machines.list()),
  'GET /api/images': (app, _req, res) => sendJson(res, 200, app.images.info()),
  'GET /api/room': (app, _req, res) => sendJson(res, 200, roomView(app)),
  'GET /api/events': (app, req, res) => app.events.add(req, res),
  'GET /api/history.csv': operatorText(async app => [await app.history.csv(), 'text/csv; charset=utf-8', { 'content-disposition': 'attachment; filename="ezio-history.csv"' }]),
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
  image: assignImage,
  name: nameMachine,
  capture: markCapture
}

export const operatorPatterns: PatternRoute[] = [{
  method: 'POST',
  pattern: /^\/api\/machines\/([^/]+)\/(accept|reimage|wake|image|name|capture)$/,
  handler: operator(async (app, req, params) => {
    const [raw, action] = params
    const id = machineIdOf(raw!)
    if (!id) throw new Refusal(400, `${raw} names no machine (${machineIdRule})`)
    return actions[action!]!(app, id, req)
  })
}]

function refuse (status: number, message: string): never {
  throw new Refusal(status, message)
}

function notFound (id: string): never {
  return refuse(404, `no machine ${id} is known here`)
}

/** The request's JSON body, an object; HINT says what to send. */
async function jsonBody (req: IncomingMessage, hint: string): Promise<Record<string, unknown>> {
  const text = await readBody(req, 4096)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new Refusal(400, `the body is not JSON: send ${hint}`)
  }
  return typeof body === 'object' && body !== null ? body as Record<string, unknown> : {}
}

async function bodyField (req: IncomingMessage, key: string, hint: string): Promise<unknown> {
  return (await jsonBody(req, hint))[key]
}

async function assignImage (app: App, id: string, req: IncomingMessage): Promise<Machine> {
  const image = await bodyField(req, 'image', '{"image": NAME}')
  if (typeof image !== 'string' || !app.images.byName(image)) {
    throw new Refusal(400, `no image ${String(image)} here; images: ${app.images.list.map(i => i.name).join(', ')}`)
  }
  return app.machines.assign(id, image)
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/

// "" drops the name: the machine shows as its id again.
async function nameMachine (app: App, id: string, req: IncomingMessage): Promise<Machine> {
  const name = await bodyField(req, 'name', '{"name": "pc-07"}')
  if (typeof name !== 'string' || (name !== '' && !NAME.test(name))) {
    throw new Refusal(400, `${JSON.stringify(name)?.slice(0, 40)} is no machine name: letters, digits, ".", "_" and "-", at most 32, starting with a letter or digit`)
  }
  try {
    return app.machines.name(id, name || null) ?? notFound(id)
  } catch (err) {
    if (err instanceof NameTaken) refuse(409, err.message)
    throw err
  }
}

/**
 * {"image": NAME, "replace"?: true}: the machine's next boot sends its disk
 * to the image store as NAME (docs/capture.md); {"image": null} unmarks it.
 * Every refusal a capture would meet on its name comes now, not at its boot.
 */
async function markCapture (app: App, id: string, req: IncomingMessage): Promise<Machine> {
  const { image, replace = false } = await jsonBody(req, '{"image": NAME, "replace": false}, or {"image": null} to unmark')
  if (image === null) return app.machines.get(id) ? app.machines.markCapture(id, null) : notFound(id)
  if (!isImageName(image)) return refuse(400, imageNameError(image))
  if (typeof replace !== 'boolean') refuse(400, '"replace" is true or false')
  const taken = nameInUse(app, image, replace, 'mark with "replace": true to take its place')
  if (taken) refuse(409, taken)
  try {
    return app.machines.markCapture(id, { image, replace })
  } catch (err) {
    if (err instanceof NameTaken) refuse(409, err.message)
    throw err
  }
}

type Run<T> = (app: App, req: IncomingMessage, params: string[], url: URL) => T

/** A route that needs the operator token (?token=) and answers with what RUN returns, as JSON. */
function operator (run: Run<unknown>): Handler {
  return needsToken(async (app, req, res, url, params) => sendJson(res, 200, await run(app, req, params, url)))
}

/** The same for a text of its own type: RUN gives body, type and headers. */
function operatorText (run: Run<Promise<[string, string, Record<string, string>]>>): Handler {
  return needsToken(async (app, req, res, url, params) => {
    const [body, type, headers] = await run(app, req, params, url)
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers })
    res.end(body)
  })
}

function needsToken (handle: Handler): Handler {
  return async (app, req, res, url, params) => {
    if (url.searchParams.get('token') !== app.operatorToken) return sendText(res, 403, 'bad or missing operator token: use the dashboard URL printed at start')
    await handle(app, req, res, url, params)
  }
}

function control (app: App, _req: IncomingMessage, _params: string[], url: URL): { paused: boolean } {
  const action = url.searchParams.get('action')
  if (action === 'pause') app.paused = true
  else if (action === 'resume') app.paused = false
  else throw new Refusal(400, `unknown action ${action}: pause or resume`)
  app.machines.log(action, '*')
  app.events.touch()
  return { paused: app.paused }
}

/** What the dashboard shows; WHOLE: with every point of the throughput chart, else the newest. */
export function roomView (app: App, whole = true): object {
  const machines = app.machines.list()
  const points = app.throughput.points
  return {
    name: app.images.default?.name ?? 'no image yet',
    images: app.images.info(),
    captures: app.captures.list(),
    paused: app.paused,
    machines,
    totals: roomTotals(machines),
    seeder: app.seederStats(),
    throughput: whole ? points : points.slice(-1),
    now: Date.now()
  }
}
