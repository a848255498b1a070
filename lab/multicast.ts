import type { Host, Network } from './netns.ts'
import { timeClients, type TransferOptions, type TransferResult } from './transfer.ts'

/**
 * What Clonezilla and FOG use: udpcast's udp-sender on SERVER, which starts
 * once every machine's udp-receiver has joined, and sends each slice until
 * every receiver has acknowledged it. Everything runs under timeout(1):
 * udpcast waits forever when something is wrong.
 */
export async function runMulticast (net: Network, server: Host, machines: Host[], opts: TransferOptions & { zstd?: boolean }): Promise<TransferResult> {
  const timeout = String(opts.timeoutSeconds ?? 3600)
  const common = ['--nokbd', '--portbase', '9000']
  opts.log?.(`udp-sender on ${server.ip} waits for ${machines.length} receivers${opts.zstd ? ' (zstd stream)' : ''}`)
  const receiver = (m: Host): string[] => ['timeout', '-k', '5', timeout, 'udp-receiver', '--interface', m.dev, ...common]
  const sender = ['timeout', '-k', '5', timeout, 'udp-sender', '--interface', server.dev, ...common, '--min-receivers', String(machines.length)]
  if (!opts.zstd) {
    return await timeClients(machines, (m, file) => net.exec(m, receiver(m)[0]!, [...receiver(m).slice(1), '--file', file], { all: true, buffer: true, stdin: 'ignore' }), opts,
      () => net.exec(server, sender[0]!, [...sender.slice(1), '--file', opts.image], { all: true, buffer: true, stdin: 'ignore' }))
  }
  // As Clonezilla and FOG send an image: one zstd stream through udpcast, decompressed as it arrives.
  // The file names travel as sh's positional parameters, never inside the script.
  return await timeClients(machines, (m, file) => net.exec(m, 'sh', ['-c', '"$@" | zstd -q -d -f -o "$0"', file, ...receiver(m)], { all: true, buffer: true, stdin: 'ignore' }), opts,
    () => net.exec(server, 'sh', ['-c', 'zstd -q -3 -c "$0" | "$@"', opts.image, ...sender], { all: true, buffer: true, stdin: 'ignore' }))
}
