import type { IncomingMessage, ServerResponse } from 'node:http'
import { EzioError } from '../engine/errors.ts'
import { mb } from '../engine/format.ts'
import { parseTorrentFile } from '../engine/torrent/load.ts'
import { badPieceSize, tooManyPieces } from '../engine/torrent/piece-size.ts'
import { parseCaptureRequest } from '../protocol/capture.ts'
import { remoteIp } from './addresses.ts'
import type { App } from './app.ts'
import { BadUpload, receiveFrames, type Received } from './capture-receiver.ts'
import type { CaptureView } from './captures.ts'
import type { Handler, PatternRoute } from './http.ts'
import { readBody, sendJson, sendText } from './respond.ts'
import { captureTokenOk } from './tokens.ts'

/** Room left beside a capture's used bytes: its torrent, and zstd's worst case on bytes that do not compress. */
const SLACK = 64 * 1024 * 1024

/**
 * ezio capture's two requests (docs/capture.md): with the operator token, or
 * with the capture token of a machine the operator marked, for the name it
 * was marked with.
 */
export const captureRoutes: Record<string, Handler> = {
  'GET /api/captures': (app, _req, res) => sendJson(res, 200, app.captures.list()),
  'POST /api/captures': beginCapture
}

export const capturePatterns: PatternRoute[] = [{
  method: 'PUT',
  pattern: /^\/api\/captures\/([0-9a-f]{16})$/,
  handler: receiveCapture
}]

const REFUSED = 'bad or missing operator token (or the machine is not marked for capture as that name): use the dashboard URL printed at start, or mark the machine again'

/** Who may capture as NAME: the operator, or the machine marked for it (which the mark's replace binds); null: nobody. */
function captureAuth (app: App, url: URL, name: string): { machine?: string, replace?: boolean } | null {
  const token = url.searchParams.get('token')
  if (token === app.operatorToken) return {}
  const m = app.machines.list().find(m => m.capture?.image === name)
  if (!m?.capture || !captureTokenOk(app.deployment.reportSecret, m.id, name, token)) return null
  return { machine: m.id, replace: m.capture.replace }
}

/** Why a capture may not be stored as NAME (409), or undefined; HOW says how to take a stored image's place. */
export function nameInUse (app: App, name: string, replace: boolean, how: string): string | undefined {
  const existing = app.images.byName(name)
  if (existing && !existing.stored) return `${name} is an image of ezio serve's command line: give the capture another name`
  if (existing && !replace) return `the store holds an image named ${name} already: ${how}, or give another name`
  return undefined
}

// Every refusal comes before a byte of the disk is read: the client asks first.
async function beginCapture (app: App, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const parsed = parseCaptureRequest(await readBody(req, 4096))
  if (typeof parsed === 'string') return sendText(res, 400, parsed)
  const auth = captureAuth(app, url, parsed.name)
  if (!auth) return sendText(res, 403, REFUSED)
  const request = { ...parsed, replace: auth.replace ?? parsed.replace }
  const { name } = request
  const running = app.captures.active(name)
  if (running) return sendText(res, 409, `a capture of ${name} is under way already (from ${running.from}): wait for it, or give this one another name`)
  const taken = nameInUse(app, name, request.replace, 'capture with --replace to take its place (machines cloning it now finish the old one)')
  if (taken) return sendText(res, 409, taken)
  const bad = badPieceSize(request.pieceLength) ?? tooManyPieces(request.usedBytes, request.pieceLength)
  if (bad) return sendText(res, 400, `${bad}: no torrent a machine loads`)
  const free = await app.store.free() - app.captures.reserved()
  const need = request.usedBytes + SLACK
  if (free < need) {
    return sendText(res, 507, `the image store ${app.store.dir} has ${mb(Math.max(0, free))} MB free, and this capture needs up to ${mb(need)} MB: free space there (or start ezio serve with --images on a bigger disk), then capture again`)
  }
  const c = app.captures.begin(request, remoteIp(req), auth.machine)
  app.machines.log('capture', c.from, { image: name, replace: request.replace })
  sendJson(res, 201, { id: c.id, upload: `/api/captures/${c.id}` })
}

/**
 * The capture's payload and torrent, in one body. Nothing is listed until
 * the torrent matches every piece that came and both are on disk; anything
 * else (the connection lost, the reference machine off, garbage) drops what
 * arrived, and the dashboard says why.
 */
async function receiveCapture (app: App, req: IncomingMessage, res: ServerResponse, url: URL, params: string[]): Promise<void> {
  const id = params[0]!
  const c = app.captures.get(id)
  const token = url.searchParams.get('token')
  const allowed = token === app.operatorToken || (c?.machine !== undefined && captureTokenOk(app.deployment.reportSecret, c.machine, c.name, token))
  if (!allowed) return sendText(res, 403, REFUSED)
  if (!c) return sendText(res, 404, `no capture ${id} was asked for here (or it timed out): start the capture again`)
  if (!app.captures.receiving(id)) return sendText(res, 409, `capture ${id} of ${c.name} is ${c.state}: start the capture again`)
  let received: Received | undefined
  try {
    const file = await app.store.incoming(id, { name: c.name, startedAt: c.startedAt })
    received = await receiveFrames(req, file, c.pieceLength, c.usedBytes + SLACK, (rawDone, bytes) => app.captures.progress(id, rawDone, bytes))
    const stored = await store(app, c, received)
    app.captures.done(id, stored.infoHash)
    app.machines.log('captured', c.from, { image: c.name, infoHash: stored.infoHash })
    sendJson(res, 201, { name: c.name, infoHash: stored.infoHash, payload: received.length })
  } catch (err) {
    await app.store.dropIncoming(id)
    const why = failure(err, c, received)
    app.captures.fail(id, why)
    if (!res.headersSent && !req.socket.destroyed) sendText(res, err instanceof BadUpload || err instanceof EzioError ? 400 : 500, why)
    else res.destroy()
  }
}

async function store (app: App, c: CaptureView, got: Received): Promise<{ infoHash: string }> {
  const meta = await parseTorrentFile(got.torrent, `the torrent of capture ${c.name}`)
  if (!meta.compressed || !meta.record) throw new BadUpload('the torrent is not one of compressed used blocks, as ezio capture makes')
  if (meta.name !== c.name) throw new BadUpload(`the torrent is named ${meta.name}, not ${c.name}`)
  if (meta.length !== got.length || meta.pieces.length !== got.hashes.length || meta.pieces.some((h, i) => h !== got.hashes[i])) {
    throw new BadUpload('the torrent does not describe the pieces that came')
  }
  await app.store.install(c.id, c.name, meta.infoHash, got.torrent)
  await app.addImage(c.name, got.torrent)
  return { infoHash: meta.infoHash }
}

function failure (err: unknown, c: CaptureView, got: Received | undefined): string {
  const at = `after ${mb(got?.length ?? c.received)} MB of ${mb(c.usedBytes)} MB used`
  if (err instanceof BadUpload || err instanceof EzioError) return `the capture of ${c.name} was refused ${at}: ${err.message}; nothing was listed`
  return `the capture of ${c.name} broke off ${at} (${(err as Error).message}: the reference machine went off or the network was cut): nothing was listed; capture again`
}
