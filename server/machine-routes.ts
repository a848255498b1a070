import type { IncomingMessage, ServerResponse } from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { machineIdOf, machineIdRule } from '../protocol/machine-id.ts'
import type { DeployConfig } from '../protocol/config.ts'
import { parseStatus, type CloneStatus } from '../protocol/status.ts'
import { remoteIp, requestHost } from './addresses.ts'
import type { App } from './app.ts'
import { decide, type Decision } from './boot-decision.ts'
import { ANYONE, captureConfigFor, configFor, torrentWithAnnounce } from './config.ts'
import { grubConfig } from './grub.ts'
import type { ServedImage } from './images.ts'
import type { Handler } from './http.ts'
import { applianceScript, chainScript, localBootScript } from './ipxe.ts'
import { readBody, send, sendJson, sendText, serveFile } from './respond.ts'
import { initrdTail } from './served-initrd.ts'
import { signConfig } from './signing-key.ts'
import { reportTokenOk } from './tokens.ts'

export const NO_IMAGE = 'this server has no image yet: capture one (ezio capture) or start ezio serve with an IMAGE; waiting'

/** What lab machines ask for: boot script, kernel and initrd, config, torrent; their reports. */
export const machineRoutes: Record<string, Handler> = {
  'GET /ezio.json': serveConfig,
  'GET /ezio.torrent': serveTorrent,
  'GET /announce': (app, req, res) => app.tracker.handle(req, res, seederFor(app, req)),
  'GET /scrape': (app, req, res) => app.tracker.handle(req, res),
  'GET /boot/boot.ipxe': serveBootScript,
  // For an admin's own TFTP server: its grub/grub.cfg for the Secure Boot path.
  'GET /boot/grub.cfg': (app, req, res) => send(res, 200, grubConfig(`http://${requestHost(req, app.advertise, app.port).hostPort}`, app.bootArgs), 'text/plain'),
  'GET /boot/vmlinuz': (app, _req, res) => serveFile(res, path.join(app.netbootDir, 'vmlinuz')),
  'GET /boot/initrd.img': (app, _req, res) => serveFile(res, path.join(app.netbootDir, 'initrd.img'), size => initrdTail(size, app.keyArchive)),
  'POST /api/status': receiveStatus
}

/**
 * This server's seeder as the asking peer reaches it: the host it named
 * (Host header, or --advertise) when that is an address, else the address
 * its connection came in on.
 */
function seederFor (app: App, req: IncomingMessage): { ip: string, port: number } {
  const host = requestHost(req, app.advertise, app.port).host.replace(/^\[|\]$/g, '')
  const ip = net.isIP(host) ? host : (req.socket.localAddress ?? '').replace(/^::ffff:/, '')
  return { ip, port: app.deployment.btPort }
}

/** The machine's id from ?mac=, or the reason it is none (400). */
function machineOf (url: URL): { id?: string, bad?: string } {
  const raw = url.searchParams.get('mac')
  if (raw === null) return {}
  const id = machineIdOf(raw)
  return id ? { id } : { bad: `?mac=${raw.slice(0, 80)} names no machine (${machineIdRule})` }
}

function decisionFor (app: App, req: IncomingMessage, id: string): Decision {
  const server = `http://${requestHost(req, app.advertise, app.port).hostPort}`
  return decide(id, app.machines.get(id), { images: app.images, admission: app.admission, paused: app.paused, server })
}

function serveBootScript (app: App, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const { hostPort } = requestHost(req, app.advertise, app.port)
  const { id, bad } = machineOf(url)
  if (bad) return sendText(res, 400, bad)
  if (!id) return send(res, 200, chainScript(hostPort, app.undiTftp), 'text/plain')
  app.machines.seen(id, remoteIp(req))
  const decision = decisionFor(app, req, id)
  const script = decision.kind === 'disk' ? localBootScript(decision.reason) : applianceScript(hostPort, app.bootArgs)
  send(res, 200, script, 'text/plain')
}

function serveConfig (app: App, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const { host, hostPort } = requestHost(req, app.advertise, app.port)
  const { id, bad } = machineOf(url)
  if (bad) return sendText(res, 400, bad)
  if (!id) {
    // Scripts and tests that name no machine: the default image, only where every machine may be imaged.
    if (!app.admission.acceptAll) return sendText(res, 400, 'name this machine: /ezio.json?mac=MAC (the server decides each machine\'s boot)')
    if (!app.images.default) return sendText(res, 503, NO_IMAGE)
    return sendJson(res, 200, signedConfig(app, app.images.default, host, hostPort, ANYONE))
  }
  const ip = remoteIp(req)
  const decision = decisionFor(app, req, id)
  switch (decision.kind) {
    case 'disk':
      app.machines.seen(id, ip)
      return sendText(res, 409, decision.reason)
    case 'refuse':
      app.machines.refuse(id, ip, decision.reason)
      return sendText(res, 403, decision.reason)
    case 'wait':
      app.machines.waiting(id, ip, decision.reason)
      return sendText(res, 503, decision.reason)
    case 'clone':
      app.machines.handedOut(id, ip, decision.image.meta.infoHash)
      return sendJson(res, 200, signedConfig(app, decision.image, host, hostPort, id))
    case 'capture':
      app.machines.capturing(id, ip)
      return sendJson(res, 200, signConfig(app.signingKey, captureConfigFor(app.deployment, decision.mark, hostPort, id)))
  }
}

function signedConfig (app: App, image: ServedImage, host: string, hostPort: string, id: string): DeployConfig {
  return signConfig(app.signingKey, configFor(app.deployment, image, host, hostPort, id))
}

function serveTorrent (app: App, req: IncomingMessage, res: ServerResponse, _url: URL, params: string[]): void {
  const image = params[0] ? app.images.byName(params[0]) ?? app.images.default : app.images.default
  if (!image) return sendText(res, 404, NO_IMAGE)
  const body = torrentWithAnnounce(image.file, requestHost(req, app.advertise, app.port).hostPort)
  res.writeHead(200, { 'content-type': 'application/x-bittorrent', 'content-length': body.length })
  res.end(body)
}

// A report is taken only with the token of the reporting machine's own
// config, and only for a machine that fetched one: the token in a config any
// LAN host can fetch speaks for that machine alone, and ids nobody handed a
// config to are never stored.
async function receiveStatus (app: App, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const body = await readBody(req, 64 * 1024)
  let status: CloneStatus
  try {
    status = parseStatus(body)
  } catch (err) {
    return sendText(res, 400, (err as Error).message)
  }
  const id = machineIdOf(status.id)
  if (!id) return sendText(res, 400, `the status's id names no machine (${machineIdRule})`)
  if (!reportTokenOk(app.deployment.reportSecret, id, url.searchParams.get('token'))) {
    return sendText(res, 403, `this token is not ${id}'s: a machine reports with the token of its own config (fetch /ezio.json?mac=${id} again)`)
  }
  const m = app.machines.get(id)
  if (!m) return sendText(res, 403, `no config was handed to ${id}: fetch /ezio.json?mac=${id} first`)
  // A torrent no longer served (its image changed since, and this server
  // made it anew at start): the machine's clone can never finish. Its
  // failure is recorded here, since the machine stops on this answer.
  if (status.state === 'cloning' && m.fetched && !app.images.infoHashes().has(m.fetched)) {
    const why = `the server's image changed since ${id}'s torrent was made (that torrent is no longer served): nothing was reported done; boot the machine again to clone the image as it is now`
    app.machines.report({ ...status, id, state: 'failed', error: why }, remoteIp(req))
    return sendText(res, 410, why)
  }
  app.machines.report({ ...status, id }, remoteIp(req))
  sendJson(res, 200, { ok: true })
}
