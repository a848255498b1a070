import { asEzioError } from '../engine/errors.ts'
import type { AfterAction, CaptureConfig } from '../protocol/config.ts'
import { blankStatus } from '../protocol/status.ts'
import { autoTarget } from './auto-target.ts'
import type { BootJob } from './boot.ts'
import { runCapture } from './capture.ts'
import { describeLabel, diskLabel } from './disk-label.ts'
import { captureProgress, captureSummary } from './progress/capture-line.ts'
import { Reporter } from './progress/report.ts'
import { checkBootTarget } from './target-check.ts'

/**
 * The operator marked this machine "capture as NAME": its disk goes to the
 * server it booted from, read and never written, so there is no countdown.
 * The server follows the capture itself; the report is for what fails
 * before it hears of it (a disk not found, a filesystem not clean).
 */
export async function runBootCapture (job: BootJob, config: CaptureConfig): Promise<AfterAction> {
  const reporter = new Reporter(config.report)
  const progress = captureProgress()
  try {
    const source = job.target ?? (config.target === 'auto' ? await autoTarget(0) : config.target)
    const info = await checkBootTarget(source, 0, job.force)
    process.stderr.write(`ezio: capturing ${source} (${describeLabel(await diskLabel(info))}) as image ${config.capture} on ${job.server}: its used blocks are read, nothing on it is changed\n`)
    const result = await runCapture({
      source,
      server: job.server,
      name: config.capture,
      token: config.token,
      replace: config.replace,
      onPlan: summary => process.stderr.write(summary),
      onProgress: progress.update
    })
    progress.end()
    process.stderr.write(captureSummary(source, job.server, result))
  } catch (err) {
    progress.end()
    const e = asEzioError(err)
    reporter.send({ ...blankStatus(job.id, 'failed'), error: e.message })
    await reporter.flush()
    throw e
  }
  return config.after
}
