import { constants, promises as fs } from 'node:fs'
import path from 'node:path'
import { EzioError, errnoOf } from '../engine/errors.ts'
import { makeImageTorrent } from '../engine/torrent/image-torrent.ts'
import { compressedSummary } from '../engine/torrent/compressed-torrent.ts'
import { parseTorrentFile } from '../engine/torrent/load.ts'
import { makeUsedBlocksTorrent } from '../engine/torrent/used-blocks-torrent.ts'
import { numberOption, parse, positionals } from './args.ts'
import type { Command } from './command.ts'

const help = `Usage: ezio create IMAGE -o OUT.torrent [--used-blocks] [--compress [--level N]]
         [--payload FILE] [--tracker URL]... [--piece-size BYTES] [--name NAME]

Hashes IMAGE (a raw disk image file or a block device) into a private
BitTorrent v1 torrent. The piece size is chosen from the image size
(1 MiB up to 2 GiB, 2 MiB up to 16 GiB, 4 MiB above) unless given.

--used-blocks: only the blocks filesystems use travel. IMAGE is a whole disk
(MBR or GPT) or a lone partition. Each partition's used blocks come from
partclone; a filesystem partclone does not know sends its non-zero blocks,
one it cannot read (not clean, damaged) sends the whole partition. A whole
disk also sends its first MiB (boot loaders) and its partition table; a GPT
is rebuilt for each target's size after the clone. Needs root (loop devices)
and Debian's partclone. Prints the disk size, the used size, the payload and
their ratio. See docs/used-blocks-layout.md.

--compress: the pieces are zstd frames (level 3 unless --level), each piece
on its own decompressible, so less than the image crosses the wire; with or
without --used-blocks. The torrent stays a plain BitTorrent v1 torrent whose
payload is one file, NAME.ezio-zstd: --payload FILE writes it, for a mirror
that seeds it with any client. Prints the payload beside the raw bytes. See
docs/compressed-pieces.md.`

async function run (argv: string[]): Promise<number> {
  const { values, positionals: pos } = parse('create', argv, {
    output: { type: 'string', short: 'o' },
    tracker: { type: 'string', multiple: true },
    'piece-size': { type: 'string' },
    name: { type: 'string' },
    'used-blocks': { type: 'boolean' },
    compress: { type: 'boolean' },
    level: { type: 'string' },
    payload: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' }
  })
  const [imagePath] = positionals('create', pos, ['IMAGE'])
  if (!values.output) throw new EzioError('usage', 'ezio create: -o OUT.torrent is required; see ezio create --help')
  if (!values.compress && (values.level !== undefined || values.payload !== undefined)) throw new EzioError('usage', 'ezio create: --level and --payload go with --compress; see ezio create --help')
  const level = values.level === undefined ? undefined : numberOption('create', 'level', values.level, 0, { integer: true, min: 1, max: 19 })
  // Checked before hours of hashing: the torrent can be written where it is to go.
  await writable(values.output)
  const payload = values.payload === undefined ? undefined : await fs.open(values.payload, 'w').catch((err: Error) => { throw cannotWrite(values.payload!, err) })
  const opts = {
    trackers: values.tracker ?? [],
    pieceSize: values['piece-size'] === undefined ? undefined : numberOption('create', 'piece-size', values['piece-size'], 0, { integer: true, min: 16384 }),
    name: values.name,
    progress: !values.quiet,
    compress: values.compress ? { level, payload } : undefined
  }
  try {
    const file = values['used-blocks']
      ? (await makeUsedBlocksTorrent(imagePath!, { ...opts, onPlan: summary => process.stderr.write(summary) })).file
      : await makeImageTorrent(imagePath!, opts)
    await fs.writeFile(values.output, file).catch((err: Error) => { throw cannotWrite(values.output!, err) })
    if (values.compress) process.stderr.write(compressedSummary(await parseTorrentFile(file, values.output)))
  } catch (err) {
    // Half a payload is no payload: nothing is left for a mirror to seed by mistake.
    await payload?.close()
    if (values.payload !== undefined) await fs.rm(values.payload, { force: true })
    throw err
  }
  await payload?.close()
  process.stderr.write(`wrote ${values.output}${values.payload ? ` and ${values.payload}` : ''}\n`)
  return 0
}

async function writable (file: string): Promise<void> {
  try {
    await fs.access(path.dirname(path.resolve(file)), constants.W_OK)
  } catch (err) {
    throw cannotWrite(file, err as Error)
  }
}

function cannotWrite (file: string, err: Error): EzioError {
  return new EzioError('writeFailed', `ezio create: cannot write ${file} (${errnoOf(err) ?? err.message}): make its directory, or name another place`)
}

export const create: Command = { name: 'create', summary: 'hash a disk image into a private torrent', help, run }
