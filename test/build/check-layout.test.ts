import { promises as fs } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { checkLayout, MAX_FILE_LINES, MAX_FUNCTION_LINES } from '../../build/check-layout.ts'
import { tempDir } from '../helpers/files.ts'
import { root } from '../helpers/paths.ts'

t.test('the tree follows the rules of docs/architecture.md', async t => {
  const problems = checkLayout(root)
  t.same(problems.map(p => `${p.file}:${p.line}: ${p.message}`), [], 'no import, argv, exit or size problem')
})

async function tree (t: Test, files: Record<string, string>): Promise<string> {
  const dir = await tempDir(t)
  for (const [file, text] of Object.entries(files)) {
    await fs.mkdir(path.join(dir, path.dirname(file)), { recursive: true })
    await fs.writeFile(path.join(dir, file), text)
  }
  return dir
}

t.test('each broken rule is found, with its file and line', async t => {
  const files: Record<string, string> = {
    'engine/a.ts': "export const a = 1\n",
    'engine/swarm/w.ts': "import WebTorrent from 'webtorrent'\nexport const w = WebTorrent\n",
    'server/w.ts': "import type { Torrent } from 'webtorrent'\nexport type W = Torrent\n",
    'engine/up.ts': "import { c } from '../client/c.ts'\nexport const u = c\n",
    'client/c.ts': "import { s } from '../server/s.ts'\nexport const c = s\n",
    'server/s.ts': "export { c } from '../client/c.ts'\nexport const s = 1\n",
    'server/argv.ts': "export const args = process.argv.slice(2)\n",
    'client/exit.ts': "export function stop (): void { process.exit(1) }\n",
    'client/lazy.ts': "export const m = import('../cli/main.ts')\n",
    'protocol/p.ts': "import { a } from '../engine/a.ts'\nimport type { a as A } from '../engine/a.ts'\nexport const p = a\n",
    'protocol/q.ts': "import { type a } from '../engine/a.ts'\nexport type Q = typeof a\n",
    'cli/main.ts': "import { c } from '../client/c.ts'\nimport { s } from '../server/s.ts'\nprocess.exit(c + s)\n",
    'lab/l.ts': "import '../cli/main.ts'\nprocess.exit(0)\n",
    'test/t.test.ts': "import '../cli/main.ts'\n",
    'engine/long.ts': `export function long (): number {\n${'  let x = 1\n'.repeat(MAX_FUNCTION_LINES)}  return 0\n}\n`,
    'server/big.ts': 'export const x = 1\n'.repeat(MAX_FILE_LINES + 1)
  }
  const dir = await tree(t, files)
  const found = checkLayout(dir, Object.keys(files)).map(p => `${p.file}:${p.line}`).sort()
  t.same(found, [
    'client/c.ts:1',
    'client/exit.ts:1',
    'client/lazy.ts:1',
    'engine/long.ts:1',
    'engine/up.ts:1',
    'lab/l.ts:1',
    'protocol/p.ts:1',
    'server/argv.ts:1',
    'server/big.ts:1',
    'server/s.ts:1',
    'server/w.ts:1'
  ], 'each file that breaks a rule, once, at the line that does; cli/, type-only protocol imports and tests pass')
})
