import { runBoot } from '../client/boot.ts'
import { loadPinned } from '../client/server-key.ts'
import { machineId } from '../client/machine-id.ts'
import { EzioError } from '../engine/errors.ts'
import { machineIdOf, machineIdRule } from '../protocol/machine-id.ts'
import { numberOption, parse, positionals } from './args.ts'
import type { Command } from './command.ts'
import { exitCodeHelp } from './exit-codes.ts'

const help = `Usage: ezio boot SERVER_URL [--id NAME] [--target DEVICE [--force]] [--countdown S]
                 [--server-key FILE]

What a PXE-booted lab machine runs (initramfs/init calls it): fetches
SERVER_URL/ezio.json?mac=NAME and the torrent it names, waiting while the
server is not up yet or asks the machine to wait (paused), and stopping when
the server refuses the machine; resolves the target; shows which disk is
about to be erased and waits S seconds (default 10) for any key to abort;
clones with the config's peers, seeding policy and report URL; and prints
the after-action (reboot, poweroff or shell) on stdout.

--id      this machine as the server knows it (default: the MAC address of
          the interface that routes to the server)
--target  the disk to write, instead of the one the config names; checked
          before the countdown (missing, read-only, mounted, too small, not a
          disk), and refused when removable or USB unless --force
--server-key  the server this machine must clone from: the server.json that
          ezio serve appends to the initrd it serves (/etc/ezio/server.json).
          A config that this server did not sign, or a torrent other than
          the one it signed, is refused (exit 17). Without it, any server
          is accepted, and ezio boot says so

${exitCodeHelp}`

async function run (argv: string[]): Promise<number> {
  const { values, positionals: pos } = parse('boot', argv, {
    target: { type: 'string' },
    force: { type: 'boolean' },
    id: { type: 'string' },
    countdown: { type: 'string' },
    'server-key': { type: 'string' }
  })
  const [server] = positionals('boot', pos, ['SERVER_URL'])
  const base = server!.replace(/\/+$/, '')
  if (!/^https?:\/\//.test(base)) throw new EzioError('usage', `ezio boot: SERVER_URL ${server} is not an http:// URL`)
  const id = values.id === undefined ? await machineId(new URL(base).hostname) : machineIdOf(values.id)
  if (!id) throw new EzioError('usage', `ezio boot: --id ${values.id} is not a machine id (${machineIdRule})`)
  const after = await runBoot({
    server: base,
    id,
    target: values.target,
    force: !!values.force,
    countdown: numberOption('boot', 'countdown', values.countdown, 10, { min: 0 }),
    pinned: values['server-key'] === undefined ? undefined : await loadPinned(values['server-key'])
  })
  process.stdout.write(after + '\n')
  return 0
}

export const boot: Command = { name: 'boot', summary: 'what a PXE-booted lab machine runs: fetch the config, clone, report', help, run }
