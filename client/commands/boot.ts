import { parseConfig, readConfigFile, type DeployConfig } from '../config.ts'
import { autoTarget } from '../disk/auto-target.ts'
import { describeDevice } from '../disk/device.ts'
import { EzioError, exitCodeHelp } from '../errors.ts'
import { machineId } from '../net/mac.ts'
import { eraseCountdown } from '../progress/countdown.ts'
import { Reporter } from '../progress/report.ts'
import { blankStatus, type MachineState } from '../progress/status.ts'
import { causeOf, parseTorrentFile, readTorrentFile, type TorrentMeta } from '../torrent/load.ts'
import { numberOption, parse, positionals } from './args.ts'
import { runClone } from './clone.ts'

export const bootHelp = `Usage: ezio boot SERVER_URL [--config FILE] [--torrent FILE] [--target DEVICE]
         [--id NAME] [--countdown S]

What a PXE-booted lab machine runs: takes the config and the torrent from
the files its caller fetched (or fetches SERVER_URL/ezio.json and the
torrent itself, retrying while the server is not up), resolves the target,
shows which disk is about to be erased and waits S seconds (default 10) for
any key to abort, clones with the config's peers, seeding policy and report
URL, and prints the after-action (reboot, poweroff or shell) on stdout.

${exitCodeHelp}`

export async function bootCommand (argv: string[]): Promise<number> {
  const { values, positionals: pos } = parse('boot', argv, {
    config: { type: 'string' },
    torrent: { type: 'string' },
    target: { type: 'string' },
    id: { type: 'string' },
    countdown: { type: 'string' }
  })
  if (values.help) { process.stdout.write(bootHelp + '\n'); return 0 }
  const [server] = positionals('boot', pos, ['SERVER_URL'])
  const base = server!.replace(/\/+$/, '')
  if (!/^https?:\/\//.test(base)) throw new EzioError('usage', `ezio boot: SERVER_URL ${server} is not an http:// URL`)
  const id = values.id ?? await machineId(new URL(base).hostname)
  const countdown = numberOption('boot', 'countdown', values.countdown, 10, { min: 0 })

  const config = values.config ? await readConfigFile(values.config) : await fetchConfig(base, id)
  const reporter = new Reporter(config.report)
  const say = (state: MachineState, error: string | null = null): void => reporter.send({ ...blankStatus(id, state), error })
  try {
    say('booting')
    say('fetching')
    const meta = await loadBootTorrent(values.torrent ?? config.torrent)
    const target = values.target ?? (config.target === 'auto' ? await autoTarget(meta.layout.end) : config.target)
    const info = await describeDevice(target).catch(() => undefined)
    await eraseCountdown({ target, sizeBytes: info?.size ?? 0, image: meta.name, imageBytes: meta.length }, countdown)
    await runClone({
      torrent: meta,
      target,
      peers: config.peers,
      seed: { ratio: config.seedRatio, idleSeconds: config.seedIdle },
      progress: 'bar',
      report: config.report,
      id
    }, reporter)
  } catch (err) {
    const e = err instanceof EzioError ? err : new EzioError('internal', (err as Error).message)
    // runClone reports its own failures; this covers what happens before it.
    say('failed', e.message)
    await reporter.flush()
    throw e
  }
  process.stdout.write(config.after + '\n')
  return 0
}

async function loadBootTorrent (source: string): Promise<TorrentMeta> {
  return parseTorrentFile(await retry(`the torrent ${source}`, () => readTorrentFile(source)), source)
}

/** GET SERVER/ezio.json until the server answers; a refusal (403) is final. */
async function fetchConfig (base: string, id: string): Promise<DeployConfig> {
  const url = `${base}/ezio.json?mac=${encodeURIComponent(id)}`
  const text = await retry(`the config ${url}`, async () => {
    let res: Response
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
    } catch (err) {
      throw new EzioError('network', `cannot reach ${base} (${causeOf(err)})`)
    }
    const body = await res.text()
    if (res.status === 403) throw new EzioError('refused', `the server refused this machine: ${body.trim()}`)
    if (!res.ok) throw new EzioError('network', `${url} answered HTTP ${res.status}: ${body.trim()}`)
    return body
  })
  return parseConfig(text, url)
}

async function retry<T> (what: string, attempt: () => Promise<T>): Promise<T> {
  let lastSaid = 0
  for (;;) {
    try {
      return await attempt()
    } catch (err) {
      if (!(err instanceof EzioError) || err.code !== 'network') throw err
      if (Date.now() - lastSaid > 10_000) {
        process.stderr.write(`ezio: waiting for ${what}: ${err.message}; retrying\n`)
        lastSaid = Date.now()
      }
      await new Promise(resolve => setTimeout(resolve, 2000))
    }
  }
}
