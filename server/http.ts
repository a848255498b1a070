import { createReadStream, promises as fs } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import { parseStatus, type CloneStatus } from '../protocol/status.ts'
import { remoteIp, requestHost } from './addresses.ts'
import { configFor, torrentWithAnnounce, type Deployment } from './config.ts'
import dashboardHtml from './dashboard.html'
import { bootScript } from './ipxe.ts'
import type { Machines } from './machines.ts'
import type { RoomTracker } from './tracker.ts'

export interface App {
  deployment: Deployment
  torrent: Uint8Array
  tracker: RoomTracker
  machines: Machines
  port: number
  advertise?: string
  netbootDir: string
  operatorToken: string
  /** MACs allowed to get a config; empty allows every machine. */
  allow: Set<string>
  paused: boolean
  /** Extra kernel arguments for boot.ipxe (ezio.countdown=…). */
  bootArgs: string
  seederStats: () => { uploaded: number, upRate: number, peers: number }
}

type Handler = (app: App, req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>

const routes: Record<string, Handler> = {
  'GET /': (_app, _req, res) => send(res, 200, dashboardHtml, 'text/html; charset=utf-8'),
  'GET /ezio.json': serveConfig,
  'GET /ezio.torrent': serveTorrent,
  'GET /announce': (app, req, res) => app.tracker.handle(req, res),
  'GET /scrape': (app, req, res) => app.tracker.handle(req, res),
  'GET /boot/boot.ipxe': (app, req, res) => send(res, 200, bootScript(requestHost(req, app.advertise, app.port).hostPort, app.bootArgs), 'text/plain'),
  'GET /boot/vmlinuz': (app, _req, res) => serveFile(res, path.join(app.netbootDir, 'vmlinuz')),
  'GET /boot/initrd.img': (app, _req, res) => serveFile(res, path.join(app.netbootDir, 'initrd.img')),
  'POST /api/status': receiveStatus,
  'GET /api/machines': (app, _req, res) => sendJson(res, 200, app.machines.list()),
  'GET /api/room': (app, _req, res) => sendJson(res, 200, roomView(app)),
  'GET /api/events': streamEvents,
  'POST /api/control': control
}

export function handler (app: App): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    let route = routes[`${req.method} ${url.pathname}`]
    if (!route && req.method === 'GET' && url.pathname === `/${app.deployment.name}.torrent`) route = serveTorrent
    if (!route) return send(res, 404, `no such page: ${req.method} ${url.pathname}\n`, 'text/plain')
    Promise.resolve(route(app, req, res, url)).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `ezio serve: ${(err as Error).message}\n`, 'text/plain')
      else res.destroy()
    })
  }
}

function serveConfig (app: App, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const mac = (url.searchParams.get('mac') ?? '').toLowerCase()
  if (app.allow.size > 0 && !app.allow.has(mac)) {
    const reason = `this machine (${mac || 'no MAC given'}) is not in the server's --allow list: nothing was written; add it to --allow to clone it`
    if (mac) app.machines.refuse(mac, remoteIp(req), reason)
    return send(res, 403, reason + '\n', 'text/plain')
  }
  if (app.paused) return send(res, 503, 'the deployment is paused by the operator: waiting until it is resumed\n', 'text/plain')
  const { host, hostPort } = requestHost(req, app.advertise, app.port)
  sendJson(res, 200, configFor(app.deployment, host, hostPort))
}

function serveTorrent (app: App, req: IncomingMessage, res: ServerResponse): void {
  const body = torrentWithAnnounce(app.torrent, requestHost(req, app.advertise, app.port).hostPort)
  res.writeHead(200, { 'content-type': 'application/x-bittorrent', 'content-length': body.length })
  res.end(body)
}

async function receiveStatus (app: App, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (url.searchParams.get('token') !== app.deployment.machineToken) return send(res, 403, 'bad or missing machine token: fetch /ezio.json again\n', 'text/plain')
  let status: CloneStatus
  try {
    status = parseStatus(await readBody(req, 64 * 1024))
  } catch (err) {
    return send(res, 400, `${(err as Error).message}\n`, 'text/plain')
  }
  app.machines.report(status, remoteIp(req))
  sendJson(res, 200, { ok: true })
}

async function control (app: App, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (url.searchParams.get('token') !== app.operatorToken) return send(res, 403, 'bad or missing operator token: use the dashboard URL printed at start\n', 'text/plain')
  const action = url.searchParams.get('action')
  if (action === 'pause') app.paused = true
  else if (action === 'resume') app.paused = false
  else return send(res, 400, `unknown action ${action}: pause or resume\n`, 'text/plain')
  app.machines.emit('change')
  sendJson(res, 200, { paused: app.paused })
}

export function roomView (app: App): object {
  return { name: app.deployment.name, paused: app.paused, machines: app.machines.list(), totals: app.machines.totals(), seeder: app.seederStats(), now: Date.now() }
}

// Server-sent events: the dashboard updates by itself, once a second at most.
function streamEvents (app: App, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
  const push = (): void => { res.write(`data: ${JSON.stringify(roomView(app))}\n\n`) }
  push()
  const timer = setInterval(push, 1000)
  req.on('close', () => clearInterval(timer))
}

async function serveFile (res: ServerResponse, file: string): Promise<void> {
  let size: number
  try {
    size = (await fs.stat(file)).size
  } catch {
    return send(res, 404, `${file} is missing: run make netboot, or pass --netboot DIR\n`, 'text/plain')
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
  createReadStream(file).pipe(res)
}

function readBody (req: IncomingMessage, limit: number): Promise<string> {
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

function send (res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function sendJson (res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value) + '\n', 'application/json')
}
