import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { gptForSize, gptMinSectors } from '../../../engine/disk/gpt.ts'
import { readPartitionTable } from '../../../engine/disk/partition-table.ts'
import { gptImage, gptPartitions, sgdiskVerify } from '../../helpers/disks.ts'
import { blankFile, sha256, tempDir } from '../../helpers/files.ts'

const MiB = 1024 * 1024

// The rebuilt table is judged by sgdisk, not by ezio's own parser.
t.test('the GPT rebuilt for a bigger, the same or a smaller disk passes sgdisk -v', async t => {
  const dir = await tempDir(t)
  const source = path.join(dir, 'source.img')
  const parts = await gptImage(source, 64 * MiB, [{ bytes: 20 * MiB, code: '8300' }, { bytes: 10 * MiB, code: '0700' }])
  const fh = await fs.open(source, 'r')
  const table = await readPartitionTable(fh, { path: source, kind: 'file', size: 64 * MiB }, source)
  await fh.close()
  const image = table.gpt!
  // The last partition ends at 31 MiB; 33 sectors of backup follow it.
  t.equal(gptMinSectors(image), BigInt((31 * MiB) / 512 + 33))

  for (const size of [64 * MiB, 200 * MiB, 40 * MiB]) {
    const target = await blankFile(path.join(dir, `target-${size}.img`), size)
    const th = await fs.open(target, 'r+')
    for (const w of gptForSize(image, 512, size)) await th.write(w.bytes, 0, w.bytes.length, w.offset)
    await th.close()
    const v = await sgdiskVerify(target)
    t.ok(v.clean, `sgdisk -v is clean at ${size / MiB} MiB: ${v.output}`)
    t.same(await gptPartitions(target), parts, `the partitions are the same at ${size / MiB} MiB`)
    if (size === 64 * MiB) t.equal(await sha256(target), await sha256(source), 'at the source size it is the source\'s own table, byte for byte')
  }
})
