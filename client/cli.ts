import { EzioError, ExitCode, exitCodeHelp } from './errors.ts'
import { cloneCommand } from './commands/clone.ts'
import { createCommand } from './commands/create.ts'
import { seedCommand } from './commands/seed.ts'
import { verifyCommand } from './commands/verify.ts'

declare const EZIO_VERSION: string | undefined
export const version = typeof EZIO_VERSION === 'string' ? EZIO_VERSION : 'dev'

type Command = (argv: string[]) => Promise<number>

const commands: Record<string, { run: Command, summary: string }> = {
  create: { run: createCommand, summary: 'hash a disk image into a private torrent' },
  seed: { run: seedCommand, summary: 'seed an image to the room' },
  clone: { run: cloneCommand, summary: 'write an image from the swarm onto a disk, then seed' },
  verify: { run: verifyCommand, summary: 'check a disk against a torrent' }
}

export function registerCommand (name: string, run: Command, summary: string): void {
  commands[name] = { run, summary }
}

function usage (): string {
  const width = Math.max(...Object.keys(commands).map(n => n.length))
  return `ezio ${version}: BitTorrent disk cloner for computer labs

Usage: ezio COMMAND [ARGS...]   (ezio COMMAND --help for each)

${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join('\n')}

${exitCodeHelp}`
}

export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === '--version' || name === '-V') { process.stdout.write(version + '\n'); return 0 }
  if (!name || name === '--help' || name === '-h' || name === 'help') { process.stdout.write(usage() + '\n'); return name ? 0 : ExitCode.usage }
  const command = commands[name]
  if (!command) {
    process.stderr.write(`ezio: unknown command "${name}"; commands: ${Object.keys(commands).join(', ')}\n`)
    return ExitCode.usage
  }
  try {
    return await command.run(rest)
  } catch (err) {
    if (err instanceof EzioError) {
      process.stderr.write(`ezio: ${err.message}\n`)
      return err.exitCode
    }
    process.stderr.write(`ezio: internal error: ${(err as Error)?.stack ?? String(err)}\n`)
    return ExitCode.internal
  }
}
