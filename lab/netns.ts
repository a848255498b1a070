import { execa, type Options, type ResultPromise } from 'execa'
import { randomBytes } from 'node:crypto'

export interface Host {
  name: string
  /** The namespace the host lives in. */
  ns: string
  ip: string
  /** Its end of the link (inside its namespace) and the switch's end. */
  dev: string
  switchDev: string
}

/**
 * A switch (a bridge in a namespace of its own) and hosts, each a network
 * namespace wired to it by a veth pair shaped with tbf in both directions.
 * The host kernel has no netem: rate is all we shape. Everything is removed
 * by destroy(), which also ends every process left in the namespaces.
 */
export class Network {
  readonly id = randomBytes(3).toString('hex')
  readonly switchNs = `ezlab-${this.id}`
  readonly subnet = '10.99.0'
  readonly hosts: Host[] = []
  private destroyed = false

  static async create (): Promise<Network> {
    if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, veth, tc, loop devices): run it as root')
    const net = new Network()
    await ip('netns', 'add', net.switchNs)
    await ip('-n', net.switchNs, 'link', 'add', 'br0', 'type', 'bridge')
    await ip('-n', net.switchNs, 'link', 'set', 'br0', 'up')
    await ip('-n', net.switchNs, 'link', 'set', 'lo', 'up')
    return net
  }

  /** Adds host NAME at .OCTET on the switch, its link shaped to RATE (unshaped without). */
  async addHost (name: string, octet: number, rate?: string): Promise<Host> {
    const ns = `${this.switchNs}-${name}`
    const dev = 'eth0'
    const switchDev = `v${this.hosts.length}-${this.id}`.slice(0, 15)
    const host: Host = { name, ns, ip: `${this.subnet}.${octet}`, dev, switchDev }
    await ip('netns', 'add', ns)
    this.hosts.push(host)
    await ip('link', 'add', switchDev, 'netns', this.switchNs, 'type', 'veth', 'peer', 'name', dev, 'netns', ns)
    await ip('-n', this.switchNs, 'link', 'set', switchDev, 'master', 'br0', 'up')
    await ip('-n', ns, 'link', 'set', 'lo', 'up')
    await ip('-n', ns, 'addr', 'add', `${host.ip}/24`, 'brd', '+', 'dev', dev)
    await ip('-n', ns, 'link', 'set', dev, 'up')
    if (rate) await this.shape(host, rate)
    return host
  }

  /** A tap device on the switch, for a QEMU guest started in the switch's namespace. */
  async addTap (name: string): Promise<string> {
    await ip('-n', this.switchNs, 'tuntap', 'add', 'dev', name, 'mode', 'tap')
    await ip('-n', this.switchNs, 'link', 'set', name, 'master', 'br0', 'up')
    return name
  }

  /** Runs a command in the switch's namespace (where the taps are). */
  execSwitch (cmd: string, args: string[], opts: Options = {}): ResultPromise {
    return execa('ip', ['netns', 'exec', this.switchNs, cmd, ...args], { reject: false, ...opts }) as ResultPromise
  }

  /** tbf both ways: the switch side shapes what the host receives, the host side what it sends. */
  async shape (host: Host, rate: string): Promise<void> {
    // tbf needs a burst of at least rate/HZ; 256 kbit suits up to 1 Gbit.
    const burst = parseRate(rate) >= 500e6 ? '512kbit' : '256kbit'
    for (const [ns, dev] of [[this.switchNs, host.switchDev], [host.ns, host.dev]] as const) {
      await execa('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', burst, 'latency', '400ms'])
    }
  }

  /** Runs a command inside HOST's namespace. */
  exec (host: Host, cmd: string, args: string[], opts: Options = {}): ResultPromise {
    return execa('ip', ['netns', 'exec', host.ns, cmd, ...args], { reject: false, ...opts }) as ResultPromise
  }

  async destroy (): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    for (const ns of [...this.hosts.map(h => h.ns), this.switchNs]) {
      // Orphans are not reaped on this host: kill what lives in a namespace before deleting it.
      const { stdout } = await execa('ip', ['netns', 'pids', ns], { reject: false })
      const pids = String(stdout).split('\n').filter(Boolean)
      if (pids.length) await execa('kill', ['-9', ...pids], { reject: false })
      await execa('ip', ['netns', 'del', ns], { reject: false })
    }
  }
}

export function parseRate (rate: string): number {
  const m = /^([\d.]+)\s*(k|m|g)?bit$/i.exec(rate)
  if (!m) throw new Error(`rate ${rate} is not like 100mbit`)
  const mult = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1
  return Number(m[1]) * mult
}

async function ip (...args: string[]): Promise<void> {
  await execa('ip', args)
}
