import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { readPartitionTable, type DiskTable } from '../../../engine/disk/partition-table.ts'
import { gptImage } from '../../helpers/disks.ts'
import { blankFile, tempDir } from '../../helpers/files.ts'

const MiB = 1024 * 1024

interface SfdiskPartition { node: string, start: number, size: number, type: string }

// sfdisk (util-linux) is the reference: ezio's own reader must find the same
// partitions it does, logical ones included.
async function sfdiskPartitions (file: string): Promise<{ number: number, offset: number, size: number }[]> {
  const { stdout } = await execa('sfdisk', ['--json', file])
  const parts = (JSON.parse(stdout) as { partitiontable: { partitions: SfdiskPartition[] } }).partitiontable.partitions
  return parts
    .filter(p => !['5', 'f', '85'].includes(p.type))
    .map(p => ({ number: Number(/(\d+)$/.exec(p.node)![1]), offset: p.start * 512, size: p.size * 512 }))
}

async function read (file: string): Promise<DiskTable> {
  const fh = await fs.open(file, 'r')
  try {
    return await readPartitionTable(fh, { path: file, kind: 'file', size: (await fh.stat()).size }, file)
  } finally {
    await fh.close()
  }
}

t.test('an MBR with an extended partition: primaries, logicals and their EBRs', async t => {
  const dir = await tempDir(t)
  const disk = await blankFile(path.join(dir, 'mbr.img'), 256 * MiB)
  await execa('sfdisk', ['-q', disk], { input: 'label: dos\nx1 : start=2048, size=64MiB, type=83\nx2 : size=150MiB, type=5\nx5 : size=30MiB, type=83\nx6 : size=40MiB, type=b\n' })
  const table = await read(disk)
  t.equal(table.kind, 'mbr')
  t.same(table.partitions, await sfdiskPartitions(disk))
  t.same(table.partitions.map(p => p.number), [1, 5, 6])
  // Each logical partition's EBR sits just before it (sfdisk leaves 1 MiB between).
  t.same(table.tableRanges.map(r => r.offset), [table.partitions[1]!.offset - MiB, table.partitions[2]!.offset - MiB])
  t.same(table.gptRanges, [])
})

t.test('a GPT: partitions as sfdisk sees them, and where its two copies lie', async t => {
  const dir = await tempDir(t)
  const disk = path.join(dir, 'gpt.img')
  await gptImage(disk, 128 * MiB, [{ bytes: 32 * MiB, code: '8300' }, { bytes: 1 * MiB, code: 'ef02' }, { bytes: 60 * MiB, code: '0700' }])
  const table = await read(disk)
  t.equal(table.kind, 'gpt')
  t.equal(table.sectorSize, 512)
  t.same(table.partitions, await sfdiskPartitions(disk))
  const end = 128 * MiB
  t.same(table.gptRanges, [
    { offset: 0, length: 512 },
    { offset: 512, length: 512 },
    { offset: 1024, length: 16384 },
    { offset: end - 512 - 16384, length: 16384 },
    { offset: end - 512, length: 512 }
  ])
  t.equal(table.gpt?.header.length, 512)
})

t.test('a bare filesystem is a lone partition, even FAT whose boot sector ends in 55 AA', async t => {
  const dir = await tempDir(t)
  for (const [name, mkfs] of [['fat', ['mkfs.vfat', '-F', '32']], ['ext4', ['mkfs.ext4', '-q', '-F']]] as const) {
    const img = await blankFile(path.join(dir, `${name}.img`), 64 * MiB)
    await execa(mkfs[0], [...mkfs.slice(1), img])
    const table = await read(img)
    t.equal(table.kind, 'none', name)
    t.same(table.partitions, [{ number: 0, offset: 0, size: 64 * MiB }], name)
  }
})

t.test('a GPT whose entries fail their checksum is refused with what to do', async t => {
  const dir = await tempDir(t)
  const disk = path.join(dir, 'gpt.img')
  await gptImage(disk, 64 * MiB, [{ bytes: 32 * MiB, code: '8300' }])
  const fh = await fs.open(disk, 'r+')
  await fh.write(Buffer.from([0xff]), 0, 1, 1024 + 100)
  await fh.close()
  await t.rejects(read(disk), { name: 'EzioError', kind: 'badImage', message: /do not match their checksum: repair the table/ })
})
