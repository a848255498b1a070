import { EzioError } from '../errors.ts'
import { checkTargetSectors } from '../disk/target-table.ts'
import { openTarget } from '../disk/target.ts'
import { machineId } from '../net/mac.ts'
import { progressSink, summaryLine, type ProgressMode } from '../progress/render.ts'
import { Reporter } from '../progress/report.ts'
import { blankStatus, type CloneStatus } from '../progress/status.ts'
import { cloneFromSwarm, type CloneResult } from '../swarm/clone.ts'
import { seedPolicyHelp, type SeedPolicy } from '../swarm/seeding.ts'
import { loadTorrent, type TorrentMeta } from '../torrent/load.ts'
import { exitCodeHelp } from '../errors.ts'
import { choiceOption, numberOption, parse, peerOption, positionals } from './args.ts'

export const cloneHelp = `Usage: ezio clone TORRENT TARGET [--peer HOST:PORT]... [--bt-port N]
         [--seed-ratio R] [--seed-idle SECONDS] [--progress bar|json|none]
         [--report URL] [--id NAME]

Writes the image of TORRENT (a path or an http(s) URL) onto TARGET (a block
device or an existing image file), piece by piece at each piece's offset,
sharing what it has with the other machines as it goes. Pieces TARGET already
holds are kept, not fetched again. TARGET is refused if it is mounted, too
small or not writable; nothing is written then. For a used-blocks torrent
(files named by disk offset) only those blocks are written; unused blocks are
left as they are, as partclone does. A whole disk's GPT is rebuilt for
TARGET's size (backup at its end), so TARGET may be larger than the source;
it is refused when smaller than the source's last partition.

${seedPolicyHelp}

--progress: bar (a live line on a terminal; the default), json (one status
object a second on stderr), none. --report URL POSTs the same objects.
--id names this machine in reports (default: the MAC address of the
interface that routes to the report server).

${exitCodeHelp}`

export interface CloneJob {
  torrent: string | TorrentMeta
  target: string
  peers: string[]
  btPort?: number
  seed: SeedPolicy
  progress: ProgressMode
  report?: string
  id?: string
}

export async function cloneCommand (argv: string[]): Promise<number> {
  const { values, positionals: pos } = parse('clone', argv, {
    peer: { type: 'string', multiple: true },
    'bt-port': { type: 'string' },
    'seed-ratio': { type: 'string' },
    'seed-idle': { type: 'string' },
    progress: { type: 'string' },
    report: { type: 'string' },
    id: { type: 'string' }
  })
  if (values.help) { process.stdout.write(cloneHelp + '\n'); return 0 }
  const [torrent, target] = positionals('clone', pos, ['TORRENT', 'TARGET'])
  await runClone({
    torrent: torrent!,
    target: target!,
    peers: peerOption('clone', values.peer),
    btPort: numberOption('clone', 'bt-port', values['bt-port'], 0, { integer: true, min: 0 }),
    seed: {
      ratio: numberOption('clone', 'seed-ratio', values['seed-ratio'], 3, { min: 0 }),
      idleSeconds: numberOption('clone', 'seed-idle', values['seed-idle'], 90, { min: 0 })
    },
    progress: choiceOption('clone', 'progress', values.progress, ['bar', 'json', 'none'] as const, 'bar'),
    report: values.report,
    id: values.id
  })
  return 0
}

/** The clone as `ezio clone` and `ezio boot` run it: checks, swarm, progress, reports, summary. */
export async function runClone (job: CloneJob, reporter = new Reporter(job.report)): Promise<CloneResult> {
  const id = job.id ?? await machineId(job.report ? new URL(job.report).hostname : undefined)
  const sink = progressSink(job.progress)
  const started = Date.now()
  let last: CloneStatus = blankStatus(id, 'cloning')
  const publish = (s: CloneStatus): void => {
    last = s
    sink.update(s)
    reporter.send(s)
  }
  let swarmStarted = false
  try {
    const meta = typeof job.torrent === 'string' ? await loadTorrent(job.torrent) : job.torrent
    last = blankStatus(id, 'cloning', meta.length)
    const target = await openTarget(job.target, meta.layout.end)
    let result: CloneResult
    try {
      await checkTargetSectors(meta.record, target.info)
      swarmStarted = true
      result = await cloneFromSwarm({ meta, disk: target.handle, id, peers: job.peers, port: job.btPort, seed: job.seed, onStatus: publish })
    } finally {
      await target.handle.close()
    }
    publish(result.status)
    sink.end()
    const rejected = result.badPieces ? ` (${result.badPieces} corrupt pieces from peers rejected${result.bannedPeers.length ? `; banned ${result.bannedPeers.join(', ')}` : ''})` : ''
    // The time and rate of the clone itself; the seeding after it is not cloning.
    process.stderr.write(summaryLine(result.status, result.cloneSeconds) + rejected + '\n')
    await reporter.flush()
    return result
  } catch (err) {
    const e = err instanceof EzioError ? err : new EzioError('internal', (err as Error).message)
    last = { ...last, state: 'failed', downRate: 0, upRate: 0, eta: null, error: e.message }
    reporter.send(last)
    // A refusal before the swarm started is said in one line, by the caller.
    if (swarmStarted) {
      sink.end()
      process.stderr.write(summaryLine(last, (Date.now() - started) / 1000) + '\n')
    }
    await reporter.flush()
    throw e
  }
}
