import { runCapture } from '../client/capture.ts'
import { captureProgress, captureSummary } from '../client/progress/capture-line.ts'
import { EzioError } from '../engine/errors.ts'
import { imageNameRule } from '../protocol/capture.ts'
import { numberOption, parse, positionals } from './args.ts'
import type { Command } from './command.ts'
import { exitCodeHelp } from './exit-codes.ts'

const help = `Usage: ezio capture DEVICE|IMAGE SERVER_URL --name NAME --token TOKEN
                   [--replace] [--level N] [--quiet]

Sends the reference machine's disk (or an image of it) to ezio serve's image
store, ready to deploy: its used blocks only (partclone's map, as ezio
create --used-blocks), compressed (as --compress, level 3 unless --level),
read once. The server hashes the pieces as they arrive and lists the image
as NAME once all of it is in and matches its torrent; a capture cut off
leaves nothing listed, and can simply be run again.

Refused before anything is sent: a disk that is mounted or a filesystem on
it that is not clean (shut the reference machine down cleanly; exit 19), a
bad token, a name that is not [A-Za-z0-9._-]+, a name in use (--replace
takes its place; machines cloning the old image finish it), a store
without room for the used blocks (exit 13).

SERVER_URL  ezio serve's http://HOST:PORT
--token   the operator token (the dashboard URL ezio serve prints holds it)
--replace take the name of an image already in the store

${exitCodeHelp}`

async function run (argv: string[]): Promise<number> {
  const { values, positionals: pos } = parse('capture', argv, {
    name: { type: 'string' },
    token: { type: 'string' },
    replace: { type: 'boolean' },
    level: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' }
  })
  const [source, server] = positionals('capture', pos, ['DEVICE|IMAGE', 'SERVER_URL'])
  const base = server!.replace(/\/+$/, '')
  if (!/^http:\/\/[^/]+$/.test(base)) throw new EzioError('usage', `ezio capture: SERVER_URL ${server} is not http://HOST:PORT`)
  if (!values.name || !imageNameRule.test(values.name)) throw new EzioError('usage', `ezio capture: --name ${values.name ?? ''} is needed, of letters, digits, '.', '_' and '-'`)
  if (!values.token) throw new EzioError('usage', 'ezio capture: --token is needed: the operator token in the dashboard URL ezio serve printed')
  const progress = values.quiet ? undefined : captureProgress()
  const result = await runCapture({
    source: source!,
    server: base,
    name: values.name,
    token: values.token,
    replace: !!values.replace,
    level: values.level === undefined ? undefined : numberOption('capture', 'level', values.level, 3, { integer: true, min: 1, max: 19 }),
    onPlan: summary => { if (!values.quiet) process.stderr.write(summary) },
    onProgress: progress?.update
  })
  progress?.end()
  process.stderr.write(captureSummary(source!, base, result))
  return 0
}

export const capture: Command = { name: 'capture', summary: 'send a reference disk to ezio serve\'s image store, ready to deploy', help, run }
