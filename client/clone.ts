import type { FileHandle } from 'node:fs/promises'
import { placePartitions } from '../engine/disk/place-partitions.ts'
import { checkTargetSectors, writeTargetTable } from '../engine/disk/target-table.ts'
import { openTarget } from '../engine/disk/target.ts'
import { asEzioError, EzioError } from '../engine/errors.ts'
import { mb } from '../engine/format.ts'
import { SwarmClone, type SwarmProgress } from '../engine/swarm/clone.ts'
import type { SeedEnd, SeedPolicy } from '../engine/swarm/seeding.ts'
import type { TorrentMeta } from '../engine/torrent/load.ts'
import { loadTorrentFrom } from './fetch.ts'
import { blankStatus, type CloneStatus, type MachineState } from '../protocol/status.ts'
import { machineId } from './machine-id.ts'
import { progressSink, seedLine, summaryLine, type ProgressMode } from './progress/render.ts'
import { Reporter } from './progress/report.ts'

export interface CloneJob {
  torrent: string | TorrentMeta
  target: string
  peers: string[]
  btPort?: number
  seed: SeedPolicy
  progress: ProgressMode
  report?: string
  id?: string
  /** Starts each progress and summary line: which of several clones in one process (sda1). */
  label?: string
}

export interface CloneResult {
  status: CloneStatus
  badPieces: number
  /** Addresses banned for sending data that failed verification. */
  bannedPeers: string[]
  /** From start to the whole image verified and flushed on the target. */
  cloneSeconds: number
  seedEnd: SeedEnd
  seedSeconds: number
}

/** The clone as `ezio clone` and `ezio boot` run it: checks, swarm, progress, reports, summary. */
export async function runClone (job: CloneJob, reporter = new Reporter(job.report)): Promise<CloneResult> {
  const id = job.id ?? await machineId(job.report ? new URL(job.report).hostname : undefined)
  const sink = progressSink(job.progress, process.stderr, job.label)
  const prefix = job.label ? `${job.label}: ` : ''
  const started = Date.now()
  let last: CloneStatus = blankStatus(id, 'cloning')
  const publish = (s: CloneStatus): void => {
    last = s
    sink.update(s)
    reporter.send(s)
  }
  let swarmStarted = false
  try {
    const loaded = typeof job.torrent === 'string' ? await loadTorrentFrom(job.torrent) : job.torrent
    last = blankStatus(id, 'cloning', loaded.length)
    const target = await openTarget(job.target, loaded.layout.end)
    let result: CloneResult
    let meta = loaded
    try {
      meta = await placePartitions(loaded, target.handle, target.info, job.target)
      await checkTargetSectors(meta.record, target.info)
      swarmStarted = true
      result = await cloneOnto(target.handle, meta, { ...job, id }, publish, reporter.stopped)
    } finally {
      await target.handle.close()
    }
    publish(result.status)
    sink.end()
    const rejected = result.badPieces ? ` (${result.badPieces} corrupt pieces from peers rejected${result.bannedPeers.length ? `; banned ${result.bannedPeers.join(', ')}` : ''})` : ''
    // The megabytes above are the torrent's; a compressed one's stand for more on the disk.
    const raw = meta.compressed ? `; ${mb(meta.compressed.rawLength)} MB decompressed onto the disk` : ''
    // The time and rate of the clone itself; the seeding after it is not cloning.
    const unreported = reporter.trouble() ? `; reports to the server failed (${reporter.trouble()})` : ''
    process.stderr.write(prefix + summaryLine(result.status, result.cloneSeconds) + raw + rejected + unreported + '\n')
    process.stderr.write(prefix + seedLine(result.seedEnd, result.seedSeconds) + '\n')
    await reporter.flush()
    return result
  } catch (err) {
    const e = asEzioError(err)
    last = { ...last, state: 'failed', downRate: 0, upRate: 0, eta: null, error: e.message }
    reporter.send(last)
    // A refusal before the swarm started is said in one line, by the caller.
    if (swarmStarted) {
      sink.end()
      process.stderr.write(prefix + summaryLine(last, (Date.now() - started) / 1000) + '\n')
    }
    await reporter.flush()
    throw e
  }
}

/**
 * The machine's clone flow on an open target: the pieces from the swarm
 * (through the chunk store, which writes them at their offsets), then the
 * partition table rebuilt for this disk, then seeding.
 */
async function cloneOnto (disk: FileHandle, meta: TorrentMeta, job: CloneJob & { id: string }, publish: (s: CloneStatus) => void, stopped: Promise<never>): Promise<CloneResult> {
  const started = Date.now()
  let state: MachineState = 'cloning'
  const swarm = new SwarmClone({ meta, disk, peers: job.peers, port: job.btPort, onTick: () => publish(status()) })
  const status = (): CloneStatus => statusOf(job.id, state, swarm.progress())
  try {
    await Promise.race([swarm.downloaded, stopped])
    await writeTable(meta, disk)
    const cloneSeconds = (Date.now() - started) / 1000
    state = 'seeding'
    publish(status())
    const seedStarted = Date.now()
    const seedEnd = await swarm.seed(job.seed)
    state = 'done'
    return { status: status(), badPieces: swarm.badPieces, bannedPeers: swarm.bannedPeers, cloneSeconds, seedEnd, seedSeconds: (Date.now() - seedStarted) / 1000 }
  } finally {
    await swarm.close()
  }
}

// A whole disk's GPT never travels as pieces: it is written for this disk's
// size once every piece is on it (engine/disk/target-table.ts).
async function writeTable (meta: TorrentMeta, disk: FileHandle): Promise<void> {
  try {
    await writeTargetTable(meta.record, disk)
  } catch (err) {
    if (err instanceof EzioError) throw err
    throw new EzioError('writeFailed', `writing the partition table failed (${(err as Error).message}): the clone is not complete; check the disk and clone again`)
  }
}

function statusOf (id: string, state: MachineState, p: SwarmProgress): CloneStatus {
  const downRate = state === 'cloning' ? p.downRate : 0
  const left = p.total - p.bytesDone
  return { id, state, ...p, downRate, eta: left === 0 ? 0 : downRate > 0 ? Math.round(left / downRate) : null, error: null }
}
