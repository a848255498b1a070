import { EzioError, type ErrorKind } from '../engine/errors.ts'
import { loadTorrent, parseTorrentFile, type TorrentMeta } from '../engine/torrent/load.ts'
import { MAX_TORRENT_BYTES } from '../engine/torrent/piece-size.ts'
import { parseConfig, type BootConfig } from '../protocol/config.ts'
import { ProtocolError } from '../protocol/error.ts'

const RETRY_MS = 2000
const CONFIG_BYTES = 64 * 1024
// A reason to wait is said when it changes, and again every half minute, not every 2 s.
const SAY_EVERY_MS = 30_000

/** An answer that means: ask again later, for this reason. */
interface Wait { why: string }

/**
 * GET URL from the ezio server. With RETRY, a server that is not up yet
 * (no connection, 5xx) or that asks this machine to wait (503: paused, not
 * yet accepted; its reason is said as it gives it) is asked again every 2 s
 * for as long as it takes; a refusal (403), "this machine is done" (409) and
 * any other answer are final.
 */
export async function fetchFromServer (url: string, opts: { retry: boolean, id?: string, most: number, tooBig: ErrorKind }): Promise<Uint8Array> {
  let saidAt = 0
  let said = ''
  for (;;) {
    const got = await fetchOnce(url, opts)
    if (got instanceof Uint8Array) return got
    if (!opts.retry) throw new EzioError('network', got.why)
    if (got.why !== said || Date.now() - saidAt >= SAY_EVERY_MS) {
      process.stderr.write(`ezio: ${got.why}\n`)
      said = got.why
      saidAt = Date.now()
    }
    await new Promise(resolve => setTimeout(resolve, RETRY_MS))
  }
}

async function fetchOnce (url: string, opts: { id?: string, most: number, tooBig: ErrorKind }): Promise<Uint8Array | Wait> {
  const { id } = opts
  let res: Response
  let body: Uint8Array
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) })
    body = await bodyOf(res, opts.most)
  } catch (err) {
    if (err instanceof TooBig) throw new EzioError(opts.tooBig, `${url} sent over ${opts.most} bytes: that is no ${opts.tooBig === 'badConfig' ? 'config' : 'torrent'} of an ezio server`)
    return { why: `the server is not up yet (${url}: ${causeOf(err)}): retrying every ${RETRY_MS / 1000} s` }
  }
  if (res.ok) return body
  const said = new TextDecoder().decode(body).trim().split('\n')[0] || res.statusText
  if (res.status === 403) throw new EzioError('refused', `the server refuses this machine${id ? ` (${id})` : ''}: ${said}`)
  if (res.status === 409) throw new EzioError('alreadyImaged', said)
  if (res.status === 503) return { why: said }
  if (res.status >= 500) return { why: `${url} answered HTTP ${res.status} (${said}): retrying every ${RETRY_MS / 1000} s` }
  throw new EzioError('network', `${url} answered HTTP ${res.status}: ${said}`)
}

class TooBig extends Error {}

// Read up to MOST bytes: a server (or anything answering in its place) cannot
// make the machine hold more.
async function bodyOf (res: Response, most: number): Promise<Uint8Array> {
  if (Number(res.headers.get('content-length') ?? 0) > most) throw new TooBig()
  const chunks: Uint8Array[] = []
  let got = 0
  for await (const chunk of res.body ?? []) {
    got += chunk.length
    if (got > most) {
      await res.body?.cancel().catch(() => {})
      throw new TooBig()
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** The machine's config from SERVER/ezio.json, as the server decides it for machine ID. */
export async function fetchConfig (base: string, id: string): Promise<{ config: BootConfig, url: string }> {
  const url = `${base}/ezio.json?mac=${encodeURIComponent(id)}`
  const text = new TextDecoder().decode(await fetchFromServer(url, { retry: true, id, most: CONFIG_BYTES, tooBig: 'badConfig' }))
  try {
    return { config: parseConfig(text, url), url }
  } catch (err) {
    if (err instanceof ProtocolError) throw new EzioError('badConfig', err.message)
    throw err
  }
}

/** A torrent from a path, or from an http(s) URL (once, or with RETRY until the server answers). */
export async function loadTorrentFrom (source: string, opts: { retry: boolean } = { retry: false }): Promise<TorrentMeta> {
  if (!/^https?:\/\//.test(source)) return loadTorrent(source)
  return parseTorrentFile(await fetchFromServer(source, { ...opts, most: MAX_TORRENT_BYTES, tooBig: 'badTorrent' }), source)
}

function causeOf (err: unknown): string {
  const e = err as { message?: string, cause?: { code?: string, message?: string } }
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)
}
