/** IPv4 addresses and CIDR blocks as NetworkPolicy's ipBlock and the topology's subnets use them. */
export interface Cidr {
  /** The network address as an unsigned 32-bit number (host bits cleared). */
  base: number;
  prefix: number;
  text: string;
}

/** The address as an unsigned 32-bit number; undefined unless it is a dotted-quad IPv4 address. */
export function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * "10.0.1.0/24" → its network and prefix; undefined for anything else (IPv6 blocks among them, which
 * the twin's IPv4 loopback network never carries). Host bits are cleared, as the API server accepts
 * "10.0.1.5/24" and the data plane matches the network.
 */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return undefined;
  const ip = ipv4ToNumber(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  const base = (ip & mask(prefix)) >>> 0;
  return { base, prefix, text: `${numberToIpv4(base)}/${prefix}` };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const n = ipv4ToNumber(ip);
  return n !== undefined && (n & mask(cidr.prefix)) >>> 0 === cidr.base;
}

/** The last address of the block that AWS lets an interface use (.255 of a /24 is the broadcast address). */
export function lastUsableAddress(cidr: Cidr): string {
  const size = 2 ** (32 - cidr.prefix);
  return numberToIpv4(cidr.base + Math.max(0, size - 2));
}
