// Bundles the client and the server into dist/ezio.cjs: one CommonJS file
// (Node's single-executable build takes CommonJS only) that runs on the
// pinned Node with nothing beside it.
import { build } from 'esbuild'
import { readFileSync } from 'node:fs'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
const stub = name => path.join(root, 'build/stubs', name)

// Native helpers that cannot be bundled and are not needed: uTP is off,
// WebSocket trackers are not used, and file locking is not ours to do.
const absent = /^(bufferutil|utf-8-validate|fs-native-extensions|utp-native)$/
const utp = /[\\/]utp\.cjs$/

await build({
  entryPoints: [path.join(root, 'cli/main.ts')],
  outfile: path.join(root, 'dist/ezio.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minifyWhitespace: false,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // The dashboard is one HTML file, carried inside the executable.
  loader: { '.html': 'text' },
  define: { EZIO_VERSION: JSON.stringify(pkg.version) },
  plugins: [{
    name: 'absent-native',
    setup (b) {
      b.onResolve({ filter: absent }, () => ({ path: stub('absent.cjs') }))
      b.onResolve({ filter: utp }, () => ({ path: stub('utp.cjs') }))
    }
  }]
}).catch(() => process.exit(1))
