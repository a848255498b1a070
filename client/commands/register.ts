// The single executable carries the operator's server too: one file to copy.
// Its commands register here, so that cli.ts stays the client's own.
import { registerCommand } from '../cli.ts'
import { serveCommand } from '../../server/serve.ts'
import { bootCommand } from './boot.ts'

registerCommand('serve', serveCommand, 'run a deployment: tracker, seeder, config, netboot files, dashboard')
registerCommand('boot', bootCommand, 'what a PXE-booted lab machine runs: fetch the config, clone, report')
