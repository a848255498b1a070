/** IPv4 addresses as unsigned 32-bit numbers, for routes and subnets. */
export function ipv4ToInt (ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0)
}

export function intToIpv4 (n: number): string {
  return [24, 16, 8, 0].map(s => (n >>> s) & 255).join('.')
}

export function prefixMask (prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0
}

/** The network address of IP/PREFIX: 10.66.0.7/24 is 10.66.0.0. */
export function networkOf (ip: string, prefix: number): string {
  return intToIpv4((ipv4ToInt(ip) & prefixMask(prefix)) >>> 0)
}
