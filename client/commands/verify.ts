import { describeDevice } from '../disk/device.ts'
import { checkTargetTable } from '../disk/target-table.ts'
import { promises as fs } from 'node:fs'
import { EzioError } from '../errors.ts'
import { bar, percent } from '../progress/format.ts'
import { DiskStore } from '../storage/disk-store.ts'
import { loadTorrent } from '../torrent/load.ts'
import { PieceChecker } from '../torrent/piece-check.ts'
import { parse, positionals } from './args.ts'

export const verifyHelp = `Usage: ezio verify TORRENT TARGET

Hashes TARGET against TORRENT and reports which pieces are good. Reads only;
exits 0 only when every piece is good, 9 otherwise. For a whole disk with a
GPT (ezio create --used-blocks), the table is checked too, against the one
rebuilt for TARGET's size.`

export async function verifyCommand (argv: string[]): Promise<number> {
  const { values, positionals: pos } = parse('verify', argv, { json: { type: 'boolean' } })
  if (values.help) { process.stdout.write(verifyHelp + '\n'); return 0 }
  const [torrentPath, targetPath] = positionals('verify', pos, ['TORRENT', 'TARGET'])
  const meta = await loadTorrent(torrentPath!)
  const info = await describeDevice(targetPath!)
  if (!info) throw new EzioError('targetMissing', `target ${targetPath} does not exist`)
  if (info.size < meta.layout.end) throw new EzioError('targetTooSmall', `target ${targetPath} holds ${info.size} bytes but the image ends at byte ${meta.layout.end}`)
  const handle = await fs.open(targetPath!, 'r')
  const store = new DiskStore(meta.pieceLength, { disk: handle, extents: meta.layout.extents, length: meta.length })
  const checker = new PieceChecker(meta.pieces)
  const bad: number[] = []
  let tableWrong: string[] = []
  const tty = process.stderr.isTTY
  try {
    for (let i = 0; i < meta.pieces.length; i++) {
      const data = await new Promise<Uint8Array>((resolve, reject) => store.get(i, null, (err, buf) => err || !buf ? reject(err) : resolve(buf)))
      if (!checker.matches(i, data)) bad.push(i)
      if (tty && i % 16 === 0) process.stderr.write(`\rverifying ${bar(i + 1, meta.pieces.length)} ${percent(i + 1, meta.pieces.length)}`)
    }
    tableWrong = await checkTargetTable(meta.record, handle)
  } finally {
    await handle.close()
  }
  if (tty) process.stderr.write('\n')
  const good = meta.pieces.length - bad.length
  if (values.json) process.stdout.write(JSON.stringify({ pieces: meta.pieces.length, good, bad, ...(meta.record?.gpt ? { tableWrong } : {}) }) + '\n')
  process.stderr.write(`${good} of ${meta.pieces.length} pieces good${bad.length ? `; bad: ${ranges(bad)}` : ''}\n`)
  if (tableWrong.length) process.stderr.write(`partition table wrong for this target: ${tableWrong.join(', ')}; clone again to rewrite it\n`)
  return bad.length === 0 && tableWrong.length === 0 ? 0 : 9
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
