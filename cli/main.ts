// Entry point of dist/ezio.cjs and of the single executable: the one place
// that reads argv and ends the process.
import { EzioError } from '../engine/errors.ts'
import { HelpAsked } from './args.ts'
import { commands } from './commands.ts'
import { exitCodeHelp, exitCodes } from './exit-codes.ts'
import { isUpstreamForm, upstream, upstreamHelp } from './upstream.ts'

declare const EZIO_VERSION: string | undefined
const version = typeof EZIO_VERSION === 'string' ? EZIO_VERSION : 'dev'

function usage (): string {
  const width = Math.max(...commands.map(c => c.name.length))
  return `ezio ${version}: BitTorrent disk cloner for computer labs

Usage: ezio COMMAND [ARGS...]   (ezio COMMAND --help for each)

${commands.map(c => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

${upstreamHelp}

${exitCodeHelp}`
}

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === '--version' || name === '-V') { process.stdout.write(version + '\n'); return 0 }
  if (!name || name === '--help' || name === '-h' || name === 'help') { process.stdout.write(usage() + '\n'); return name ? 0 : exitCodes.usage }
  // ezio upstream's flags come first, where a command's name would be.
  const [command, args] = isUpstreamForm(argv) ? [upstream, argv] : [commands.find(c => c.name === name), rest]
  if (!command) {
    process.stderr.write(`ezio: unknown command "${name}"; commands: ${commands.map(c => c.name).join(', ')}\n`)
    return exitCodes.usage
  }
  try {
    return await command.run(args)
  } catch (err) {
    if (err instanceof HelpAsked) { process.stdout.write(command.help + '\n'); return 0 }
    if (err instanceof EzioError) {
      process.stderr.write(`ezio: ${err.message}\n`)
      return exitCodes[err.kind]
    }
    process.stderr.write(`ezio: internal error: ${(err as Error)?.stack ?? String(err)}\n`)
    return exitCodes.internal
  }
}

main(process.argv.slice(2)).then(code => process.exit(code), (err: unknown) => {
  process.stderr.write(`ezio: internal error: ${(err as Error)?.stack ?? String(err)}\n`)
  process.exit(exitCodes.internal)
})
