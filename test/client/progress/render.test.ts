import t from 'tap'
import { seedLine, summaryLine } from '../../../client/progress/render.ts'
import { blankStatus } from '../../../protocol/status.ts'

t.test('the summary says what came from where, and what was fetched though the target held it', async t => {
  const s = { ...blankStatus('m1', 'done', 100e6), bytesDone: 100e6, reused: 90e6, fromSeeder: 4e6, fromPeers: 6e6, uploaded: 12e6, refetched: 3 }
  t.equal(summaryLine(s, 10),
    'cloned 100.0 of 100.0 MB in 0:10 (1.0 MB/s): 90.0 MB reused from the target, 4.0 MB from the seeder, 6.0 MB from peers, 12.0 MB uploaded; 3 fetched pieces were on the target already')
  t.match(summaryLine({ ...s, refetched: 1 }, 10), /; 1 fetched piece was on the target already$/)
  t.match(summaryLine({ ...s, refetched: 0 }, 10), /; 0 fetched pieces were on the target already$/, 'said when none were, too')
})

t.test('a line says how long the machine seeded and why it stopped', async t => {
  t.equal(seedLine('ratio', 75), 'seeded 1:15, until it had uploaded its seed ratio')
  t.equal(seedLine('room-done', 8), 'seeded 0:08, until the tracker counted no machine still downloading')
  t.equal(seedLine('immediate', 0), 'not seeding (seed ratio 0)')
})
