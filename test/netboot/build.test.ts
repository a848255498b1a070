import { execa } from 'execa'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { partcloneTools } from '../../engine/used-blocks/partclone.ts'
import { sha256 } from '../helpers/files.ts'
import { executable, root } from '../helpers/paths.ts'
import { netbootDir, netbootFiles } from '../helpers/qemu.ts'

t.setTimeout(1_200_000)

const initrd = path.join(netbootDir, 'initrd.img')

async function initrdList (): Promise<string[]> {
  const { stdout } = await execa('sh', ['-c', `zstd -dc '${initrd}' | cpio -itv --quiet`], { maxBuffer: 64 * 1024 * 1024 })
  return stdout.split('\n')
}

async function initrdFile (name: string): Promise<Buffer> {
  const { stdout } = await execa('sh', ['-c', `zstd -dc '${initrd}' | cpio -i --quiet --to-stdout '${name}'`], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 })
  return Buffer.from(stdout)
}

// cpio -tv: mode, links, owner, group, size (major, minor for devices), month, day, year, name[ -> target]
const names = (list: string[]): Set<string> => new Set(list.map(l => l.split(/\s+/).slice(/^[bc]/.test(l) ? 9 : 8).join(' ').replace(/ -> .*$/, '')))

t.test('a second make netboot with nothing changed does nothing', async t => {
  await netbootFiles()
  await execa('make', ['netboot'], { cwd: root })
  const before = (await fs.stat(initrd)).mtimeMs
  const again = await execa('make', ['netboot'], { cwd: root, all: true })
  t.notMatch(again.all, /build\/netboot\.sh/, 'make did not run the netboot build')
  t.equal((await fs.stat(initrd)).mtimeMs, before, 'initrd.img was not rewritten')
})

async function lddLibs (files: string[]): Promise<Set<string>> {
  const { stdout } = await execa('ldd', files)
  // Given several files, ldd heads each one's list with "FILE:".
  return new Set(stdout.split('\n').map(l => /=> (\/\S+)/.exec(l)?.[1] ?? /^\s+(\/\S+) \(/.exec(l)?.[1]).filter((l): l is string => !!l))
}

// What a capture runs (build/netboot/capture-tools.sh): each filesystem's partclone, and util-linux's blkid and losetup.
const captureTools = [...new Set(Object.values(partcloneTools))].map(tool => `/usr/sbin/partclone.${tool}`).concat('/usr/sbin/blkid', '/usr/sbin/losetup')

t.test('the initrd holds busybox, init, the ezio executable, the tools a capture runs, and exactly the libraries ldd names', async t => {
  const list = await initrdList()
  const files = names(list)
  for (const f of ['init', 'init_functions', 'etc/udhcpc.script', 'bin/busybox', 'usr/bin/ezio', 'dev/console']) t.ok(files.has(f), `has /${f}`)
  t.ok(list.some(l => / sbin\/udhcpc -> \.\.\/bin\/busybox$/.test(l)), 'applet links are relative (/sbin/udhcpc -> ../bin/busybox)')
  t.ok(list.some(l => /^-rwxr-xr-x .* init$/.test(l)), '/init is executable')
  t.equal(await sha256Of(await initrdFile('usr/bin/ezio')), await sha256(executable), '/usr/bin/ezio is dist/ezio')
  for (const tool of captureTools) {
    t.ok(list.some(l => /^-rwx/.test(l) && l.endsWith(` ${tool.slice(1)}`)), `has ${tool}, the program itself (not a busybox link)`)
  }
  t.equal(await sha256Of(await initrdFile('usr/sbin/blkid')), await sha256('/usr/sbin/blkid'), '/usr/sbin/blkid is util-linux\'s')
  const libs = await lddLibs([executable, ...captureTools])
  t.ok(libs.size >= 5, `ldd names ${libs.size} libraries`)
  for (const lib of libs) t.ok(files.has(lib.slice(1)), `has ${lib}, at the path ldd names`)
  const libsInInitrd = [...files].filter(f => /\.so(\.\d+)*$/.test(f))
  t.equal(libsInInitrd.length, libs.size, 'and no other shared library')
})

t.test('the initrd holds the NIC and disk modules and the index coldplug needs', async t => {
  const files = [...names(await initrdList())]
  const modules = new Set(files.filter(f => f.endsWith('.ko')).map(f => path.basename(f, '.ko').replace(/-/g, '_')))
  for (const m of ['virtio_net', 'virtio_pci', 'e1000', 'e1000e', 'igb', 'igc', 'r8169', 'tg3', 'bnx2', 'bnx2x', 'ixgbe',
    'i40e', 'ice', 'bnxt_en', 'atlantic', 'vmxnet3', 'hv_netvsc', 'mpt3sas', 'megaraid_sas',
    'ahci', 'ata_piix', 'nvme', 'sd_mod', 'virtio_blk', 'virtio_scsi', 'mmc_block', 'sdhci_pci', 'xhci_pci', 'usbhid']) {
    t.ok(modules.has(m), `has ${m}.ko`)
  }
  t.ok(modules.has('libata') && modules.has('nvme_core') && modules.has('realtek'), 'with their dependencies and soft dependencies (libata, nvme_core, realtek for r8169)')
  const alias = files.find(f => /^lib\/modules\/[^/]+\/modules\.alias$/.test(f))
  t.ok(alias, 'depmod indexed them')
  const aliases = (await initrdFile(alias!)).toString()
  t.match(aliases, /^alias pci:v00008086d0000100Esv\*sd\*bc\*sc\*i\* e1000$/m, 'QEMU\'s e1000 (8086:100e) maps to e1000')
  t.match(aliases, /^alias pci:v\*d\*sv\*sd\*bc01sc08i02\* nvme$/m, 'any NVMe controller maps to nvme')
})

t.test('the firmware the NIC modules ask for, from non-free-firmware, within the 40 MiB budget; FIRMWARE=free leaves it out', async t => {
  const files = [...names(await initrdList())]
  const firmware = files.filter(f => f.startsWith('lib/firmware/'))
  for (const dir of ['rtl_nic', 'tigon', 'bnx2', 'bnx2x']) {
    t.ok(firmware.some(f => f.startsWith(`lib/firmware/${dir}/`)), `has ${dir}/ firmware (${firmware.filter(f => f.startsWith(`lib/firmware/${dir}/`)).length} files)`)
  }
  t.ok(firmware.includes('lib/firmware/rtl_nic/rtl8168h-2.fw'), 'has rtl8168h-2.fw, which r8169 asks for the commonest desktop Realtek chip')
  const size = (await fs.stat(initrd)).size
  t.ok(size <= 40 * 1024 * 1024, `initrd.img is ${(size / 1048576).toFixed(1)} MiB, at most 40 MiB`)
  const magic = Buffer.alloc(4)
  const fh = await fs.open(initrd)
  await fh.read(magic, 0, 4, 0)
  await fh.close()
  t.equal(magic.toString('hex'), '28b52ffd', 'one zstd-compressed archive')

  const out = path.join(root, 'dist/test-netboot-free')
  await fs.rm(out, { recursive: true, force: true })
  t.teardown(() => fs.rm(out, { recursive: true, force: true }))
  const free = await execa('build/netboot.sh', [out, executable, path.join(root, 'dist/cache')], { cwd: root, env: { FIRMWARE: 'free' }, all: true })
  t.match(free.all, /FIRMWARE=free: non-free-firmware left out/, 'the free build says what it left out')
  const { stdout } = await execa('sh', ['-c', `zstd -dc '${out}/initrd.img' | cpio -it --quiet`], { maxBuffer: 64 * 1024 * 1024 })
  t.notOk(stdout.split('\n').some(f => f.startsWith('lib/firmware/rtl_nic/')), 'FIRMWARE=free: no rtl_nic/ firmware')
  const freeSize = (await fs.stat(path.join(out, 'initrd.img'))).size
  t.ok(freeSize < size, `and a smaller initrd: ${(freeSize / 1048576).toFixed(1)} MiB against ${(size / 1048576).toFixed(1)} MiB`)
})

t.test('the PXE files: Debian\'s iPXE, pxelinux.cfg/default, a bzImage kernel', async t => {
  for (const f of ['undionly.kpxe', 'snponly.efi']) t.equal(await sha256(path.join(netbootDir, f)), await sha256(`/usr/lib/ipxe/${f}`), `${f} is Debian's`)
  const cfg = await fs.readFile(path.join(netbootDir, 'pxelinux.cfg/default'), 'utf8')
  t.match(cfg, /^\s*KERNEL vmlinuz$/m)
  t.match(cfg, /^\s*INITRD initrd\.img$/m)
  t.match(cfg, /^\s*IPAPPEND 2$/m, 'pxelinux passes BOOTIF=')
  t.match(cfg, /^\s*APPEND .*console=ttyS0,115200n8 console=tty0$/m, 'its kernel line ends in console=tty0, as boot.ipxe\'s does')
  const header = Buffer.alloc(4)
  const fh = await fs.open(path.join(netbootDir, 'vmlinuz'))
  await fh.read(header, 0, 4, 0x202)
  await fh.close()
  t.equal(header.toString(), 'HdrS', 'vmlinuz is a bzImage')
})

async function sha256Of (buf: Buffer): Promise<string> {
  const { createHash } = await import('node:crypto')
  return createHash('sha256').update(buf).digest('hex')
}
