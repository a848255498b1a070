import { verifyTarget } from '../engine/disk/verify-target.ts'
import { bar, percent } from '../engine/format.ts'
import { loadTorrentFrom } from '../client/fetch.ts'
import { parse, positionals } from './args.ts'
import type { Command } from './command.ts'
import { exitCodes } from './exit-codes.ts'

const help = `Usage: ezio verify TORRENT TARGET

Hashes TARGET against TORRENT and reports which pieces are good. Reads only;
exits 0 only when every piece is good, 9 otherwise. For a whole disk with a
GPT (ezio create --used-blocks), the table is checked too, against the one
rebuilt for TARGET's size.`

async function run (argv: string[]): Promise<number> {
  const { values, positionals: pos } = parse('verify', argv, { json: { type: 'boolean' } })
  const [torrentPath, targetPath] = positionals('verify', pos, ['TORRENT', 'TARGET'])
  const meta = await loadTorrentFrom(torrentPath!)
  const tty = process.stderr.isTTY
  const { bad, tableWrong } = await verifyTarget(meta, targetPath!, (done, total) => {
    if (tty && (done % 16 === 1 || done === total)) process.stderr.write(`\rverifying ${bar(done, total)} ${percent(done, total)}`)
  })
  if (tty) process.stderr.write('\n')
  const good = meta.pieces.length - bad.length
  if (values.json) process.stdout.write(JSON.stringify({ pieces: meta.pieces.length, good, bad, ...(meta.record?.gpt ? { tableWrong } : {}) }) + '\n')
  process.stderr.write(`${good} of ${meta.pieces.length} pieces good${bad.length ? `; bad: ${ranges(bad)}` : ''}\n`)
  if (tableWrong.length) process.stderr.write(`partition table wrong for this target: ${tableWrong.join(', ')}; clone again to rewrite it\n`)
  return bad.length === 0 && tableWrong.length === 0 ? 0 : exitCodes.verifyFailed
}

function ranges (indexes: number[]): string {
  const out: string[] = []
  for (let i = 0; i < indexes.length;) {
    let j = i
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1) j++
    out.push(i === j ? `${indexes[i]}` : `${indexes[i]}-${indexes[j]}`)
    i = j + 1
  }
  return out.length > 20 ? out.slice(0, 20).join(', ') + `, ... (${out.length} runs)` : out.join(', ')
}

export const verify: Command = { name: 'verify', summary: 'check a disk against a torrent', help, run }
