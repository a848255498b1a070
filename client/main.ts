// Entry point of dist/ezio.cjs and of the single executable.
import { main } from './cli.ts'
import './commands/register.ts'

main(process.argv.slice(2)).then(code => process.exit(code), err => {
  process.stderr.write(`ezio: internal error: ${(err as Error)?.stack ?? String(err)}\n`)
  process.exit(1)
})
