import type { Host, Network } from './netns.ts'
import { timeClients, type TransferOptions, type TransferResult } from './transfer.ts'

/**
 * What Clonezilla and FOG use: udpcast's udp-sender on SERVER, which starts
 * once every machine's udp-receiver has joined, and sends each slice until
 * every receiver has acknowledged it. Everything runs under timeout(1):
 * udpcast waits forever when something is wrong.
 */
export async function runMulticast (net: Network, server: Host, machines: Host[], opts: TransferOptions): Promise<TransferResult> {
  const timeout = String(opts.timeoutSeconds ?? 3600)
  const common = ['--nokbd', '--portbase', '9000']
  opts.log?.(`udp-sender on ${server.ip} waits for ${machines.length} receivers`)
  return await timeClients(
    machines,
    (m, file) => net.exec(m, 'timeout', ['-k', '5', timeout, 'udp-receiver', '--file', file, '--interface', m.dev, ...common], { all: true, buffer: true, stdin: 'ignore' }),
    opts,
    () => net.exec(server, 'timeout', ['-k', '5', timeout, 'udp-sender', '--file', opts.image, '--interface', server.dev, ...common,
      '--min-receivers', String(machines.length)], { all: true, buffer: true, stdin: 'ignore' })
  )
}
