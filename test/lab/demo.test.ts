import t from 'tap'
import { execa } from 'execa'
import { root } from '../helpers/paths.ts'

// make demo as the README's first command runs it, scaled down for CI: two
// UEFI guests PXE-boot through dnsmasq (proxy DHCP, TFTP) and iPXE, clone a
// 64 MiB partitioned disk, and the demo exits 0 only when both disks match.
t.test('make demo: two PXE guests clone the sample disk', { timeout: 1_500_000 }, async t => {
  const r = await execa('make', ['--no-print-directory', 'demo'], {
    cwd: root,
    reject: false,
    all: true,
    timeout: 1_400_000,
    env: { EZIO_DEMO_GUESTS: '2', EZIO_DEMO_SIZE_MIB: '64' }
  })
  const out = String(r.all)
  t.comment(out.split('\n').filter(l => /^(demo:|machine|pc-)/.test(l)).join('\n'))
  t.equal(r.exitCode, 0, 'make demo exits 0')
  t.match(out, /demo: dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/, 'prints the dashboard URL')
  const rows = out.split('\n').filter(l => /^pc-\d\d /.test(l))
  t.equal(rows.length, 2, 'a table row per guest')
  for (const row of rows) t.match(row, /\byes$/, `verified: ${row}`)
  t.match(out, /every guest's disk matches the image \(2 machines\)/)
})
