import { runClone } from '../client/clone.ts'
import { choiceOption, numberOption, parse, peerOption, positionals } from './args.ts'
import type { Command } from './command.ts'
import { exitCodeHelp } from './exit-codes.ts'

const seedPolicyHelp = `After the clone is complete and flushed, it keeps seeding to the room and
exits 0 at the first of:
  - uploaded (in all, during the clone too) >= --seed-ratio x image size
    (default 3; 0 exits at once);
  - the tracker reports no machine still downloading (the room is done);
  - nothing uploaded for --seed-idle seconds (default 90).`

const help = `Usage: ezio clone TORRENT TARGET [--peer HOST:PORT]... [--bt-port N]
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

async function run (argv: string[]): Promise<number> {
  const { values, positionals: pos } = parse('clone', argv, {
    peer: { type: 'string', multiple: true },
    'bt-port': { type: 'string' },
    'seed-ratio': { type: 'string' },
    'seed-idle': { type: 'string' },
    progress: { type: 'string' },
    report: { type: 'string' },
    id: { type: 'string' }
  })
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

export const clone: Command = { name: 'clone', summary: 'write an image from the swarm onto a disk, then seed', help, run }
