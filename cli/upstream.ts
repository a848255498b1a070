import { parseArgs } from 'node:util'
import { clonePartitions, seedPartitions, type PartitionPair } from '../client/partitions.ts'
import { EzioError } from '../engine/errors.ts'
import { checkedNumber } from './args.ts'
import type { Command } from './command.ts'
import { seedUntilStopped } from './seed.ts'

// ezio upstream's command line, as Clonezilla's ocs-btsrv builds it (read
// from Debian 12's clonezilla 5.3.17: /usr/sbin/ocs-btsrv, drbl-ocs.conf):
//   seeder:  ezio -U [-f] [--cache KiB] -T sda1.torrent -L /dev/sda1 -T sda2.torrent -L /dev/sda2
//   machine: ezio -t 1 [--cache KiB] -T sda1.torrent -L /dev/sda1 ...
// It adds --cache only when `ezio -h` mentions it.

export const upstreamHelp = `Clonezilla's form (ezio upstream's command line, as Clonezilla's ocs-btsrv runs it):
  ezio [-t MIN] [-e RATIO] [--cache KiB] -T TORRENT -L TARGET [-T TORRENT -L TARGET]...
  ezio -U [-f] [--cache KiB] -T TORRENT -L TARGET [-T TORRENT -L TARGET]...
Each -T TORRENT is written onto (or, with -U, seeded from) the -L TARGET after it,
all in one process, each finding its peers through its torrent's tracker
(Clonezilla's opentracker). A machine exits 0 only when every TARGET holds its
torrent, verified, and it has seeded: until RATIO x the torrent is uploaded
(-e, default 3), the tracker counts no one still downloading, or nothing was
uploaded for MIN minutes (-t, default 15). -U seeds until stopped (SIGTERM);
-f: each TARGET is a directory holding the torrent's slice files (NAME/<hex>).
--cache KiB, -m N (upload slots), -c N (connections), -k N (tracker errors)
and -s (sequential) are accepted; memory stays bounded and pieces are picked
rarest first, whatever they say.`

// The flags of ezio upstream: this form is taken when the first argument is one of them.
const options = {
  torrent: { type: 'string', short: 'T', multiple: true },
  target: { type: 'string', short: 'L', multiple: true },
  upload: { type: 'boolean', short: 'U' },
  file: { type: 'boolean', short: 'f' },
  timeout: { type: 'string', short: 't' },
  'seed-ratio': { type: 'string', short: 'e' },
  cache: { type: 'string' },
  'max-uploads': { type: 'string', short: 'm' },
  connections: { type: 'string', short: 'c' },
  'tracker-errors': { type: 'string', short: 'k' },
  sequential: { type: 'boolean', short: 's' },
  help: { type: 'boolean', short: 'h' }
} as const

// -h stays the new form's help, which shows this form too.
const flags = new Set(['--cache', ...Object.values(options).flatMap(o => 'short' in o && o.short !== 'h' ? [`-${o.short}`] : [])])

/** Whether ARGV is ezio upstream's form: its first word is one of upstream's flags, never a command. */
export function isUpstreamForm (argv: string[]): boolean {
  const first = argv[0] ?? ''
  return flags.has(first) || flags.has(first.slice(0, 2)) || first.startsWith('--cache=')
}

async function run (argv: string[]): Promise<number> {
  let values
  try {
    ({ values } = parseArgs({ args: argv, options, allowPositionals: false, strict: true }))
  } catch (err) {
    throw new EzioError('usage', `${(err as Error).message} (Clonezilla's form: ezio -h)`)
  }
  if (values.help) {
    process.stdout.write(upstreamHelp + '\n')
    return 0
  }
  const torrents = values.torrent ?? []
  const targets = values.target ?? []
  if (torrents.length === 0 || torrents.length !== targets.length) {
    throw new EzioError('usage', `give each -T TORRENT its -L TARGET (got ${torrents.length} -T, ${targets.length} -L); see ezio -h`)
  }
  const pairs: PartitionPair[] = torrents.map((torrent, i) => ({ torrent, target: targets[i]! }))
  for (const [flag, value] of [['--cache', values.cache], ['-m', values['max-uploads']], ['-c', values.connections], ['-k', values['tracker-errors']]] as const) count(flag, value, 0)
  if (values.upload) {
    const { seeder, images } = await seedPartitions(pairs, !!values.file)
    process.stderr.write(`seeding ${pairs.map(p => `${p.torrent} from ${p.target}`).join(', ')} on port ${seeder.port}\n`)
    await seedUntilStopped(seeder, images)
    return 0
  }
  if (values.file) throw new EzioError('usage', '-f (slice files) is for seeding with -U; a machine clones onto partition devices or image files')
  const seed = {
    ratio: count('-e', values['seed-ratio'], 3, false),
    idleSeconds: count('-t', values.timeout, 15, false) * 60
  }
  await clonePartitions(pairs, seed, pairs.length > 1 || !process.stderr.isTTY ? 'lines' : 'bar')
  return 0
}

function count (flag: string, value: string | undefined, fallback: number, integer = true): number {
  return checkedNumber(flag, value, fallback, { min: 0, integer }, '; see ezio -h')
}

/** Not listed among the commands: taken when the first argument is one of upstream's flags. */
export const upstream: Command = { name: 'ezio (Clonezilla\'s form)', summary: 'ezio upstream\'s command line', help: upstreamHelp, run }
