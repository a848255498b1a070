import { asEzioError } from '../engine/errors.ts'
import { isCapture, type AfterAction } from '../protocol/config.ts'
import { blankStatus, type MachineState } from '../protocol/status.ts'
import { autoTarget } from './auto-target.ts'
import { runBootCapture } from './boot-capture.ts'
import { runClone } from './clone.ts'
import { describeLabel, diskLabel } from './disk-label.ts'
import { fetchConfig, loadTorrentFrom } from './fetch.ts'
import { eraseCountdown } from './progress/countdown.ts'
import { checkConfigSigned, checkTorrentSigned, type Pinned } from './server-key.ts'
import { Reporter } from './progress/report.ts'
import { checkBootTarget } from './target-check.ts'

export interface BootJob {
  /** The ezio server, http://HOST:PORT. */
  server: string
  /** This machine, as the server knows it: its MAC address. */
  id: string
  /** The disk to write, instead of the config's. */
  target?: string
  /** Write a removable or USB disk named by target too. */
  force: boolean
  countdown: number
  /** The server this machine booted from (--server-key): its configs must carry its signature. */
  pinned?: Pinned
}

/**
 * A PXE-booted lab machine's whole job: its config and torrent from the
 * server (waiting while the server is not up or asks it to wait), the target,
 * the erase warning and countdown, the clone, the reports. Resolves to what
 * the machine does next. A machine marked for capture sends its disk
 * instead (boot-capture.ts).
 */
export async function runBoot (job: BootJob): Promise<AfterAction> {
  const { config, url } = await fetchConfig(job.server, job.id)
  checkConfigSigned(config, job.pinned, job.id, url)
  if (isCapture(config)) return runBootCapture(job, config)
  const reporter = new Reporter(config.report)
  const say = (state: MachineState, error: string | null = null): void => reporter.send({ ...blankStatus(job.id, state), error })
  try {
    say('booting')
    say('fetching')
    const meta = await loadTorrentFrom(config.torrent, { retry: true })
    checkTorrentSigned(meta, config, job.pinned, config.torrent)
    const target = job.target ?? (config.target === 'auto' ? await autoTarget(meta.layout.end) : config.target)
    const info = await checkBootTarget(target, meta.layout.end, job.force)
    await eraseCountdown({ target, disk: describeLabel(await diskLabel(info)), image: meta.name, imageBytes: meta.length }, job.countdown)
    await runClone({
      torrent: meta,
      target,
      peers: config.peers,
      seed: { ratio: config.seedRatio, idleSeconds: config.seedIdle },
      progress: 'bar',
      report: config.report,
      id: job.id
    }, reporter)
  } catch (err) {
    const e = asEzioError(err)
    // runClone reports its own failures; this covers what happens before it.
    say('failed', e.message)
    await reporter.flush()
    throw e
  }
  return config.after
}
