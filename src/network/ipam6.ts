// IPv6 address management, pure functions (BigInt: 128-bit addresses): parsing, formatting in
// the canonical RFC 5952 form Docker reports, the next free address of a subnet, and an
// endpoint's address on a network record (persisting it is the store's job).
import { ConflictError, FailedPreconditionError, InvalidArgumentError } from '../errdefs/index.ts';
import type { NetworkRecord } from './store.ts';

export interface Cidr6 {
  readonly base: bigint;
  readonly bits: number;
}

const ALL = (1n << 128n) - 1n;

export function isIPv6(s: string): boolean {
  return s.includes(':');
}

export function ip6ToBig(ip: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(ip) || ip.length > 45) return undefined;
  let s = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) return undefined;
    s = `${s.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return n;
}

/** RFC 5952: lower case, no leading zeros, the longest run (≥2) of zero groups as `::`. */
export function bigToIp6(n: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function mask6(bits: number): bigint {
  return bits === 0 ? 0n : (ALL << BigInt(128 - bits)) & ALL;
}

export function parseCidr6(s: string, what = 'subnet'): Cidr6 {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(s.trim());
  const ip = m ? ip6ToBig(m[1]!) : undefined;
  const bits = m ? Number(m[2]) : Number.NaN;
  if (ip === undefined || !(bits >= 0 && bits <= 128))
    throw new InvalidArgumentError(
      'INVALID_SUBNET',
      `invalid ${what} "${s}": use IPv6 CIDR notation like fd42:1::/64`,
    );
  return { base: ip & mask6(bits), bits };
}

export function formatCidr6(c: Cidr6): string {
  return `${bigToIp6(c.base)}/${c.bits}`;
}

export function contains6(c: Cidr6, ip: bigint): boolean {
  return (ip & mask6(c.bits)) === c.base;
}

/**
 * The next free address of `range` within `subnet` (the subnet's own address is the router
 * anycast one, never handed out), trying at most `limit` candidates: a /64 has 2^64.
 */
export function nextFree6(
  subnet: Cidr6,
  range: Cidr6,
  used: ReadonlySet<bigint>,
  limit = 65536,
): bigint | undefined {
  const lo = range.base > subnet.base ? range.base : subnet.base + 1n;
  const end = range.base + (1n << BigInt(128 - range.bits));
  for (let i = 0n, ip = lo; i < BigInt(limit) && ip < end; i++, ip++) if (!used.has(ip)) return ip;
  return undefined;
}

/**
 * The endpoint's IPv6 address on an IPv6 network: the requested one, checked, else the next
 * free one of the range. A v6 request on a network without `--ipv6` is only recorded (Docker
 * 20.10 keeps it in IPAMConfig and assigns nothing).
 */
export function pickIp6(n: NetworkRecord, want: string | undefined): string | undefined {
  if (!n.enableIPv6 || !n.subnet6) return undefined;
  const subnet = parseCidr6(n.subnet6);
  const used = new Set<bigint>([ip6ToBig(n.gateway6!)!]);
  for (const e of Object.values(n.endpoints)) if (e.ip6) used.add(ip6ToBig(e.ip6)!);
  if (want) {
    const ip = ip6ToBig(want);
    if (ip === undefined) throw new InvalidArgumentError('INVALID_IP', `invalid IPv6 address "${want}"`);
    if (!contains6(subnet, ip) || ip === subnet.base)
      throw new InvalidArgumentError(
        'INVALID_IP',
        `invalid address ${want}: it is not a host address in network ${n.name}'s subnet ${n.subnet6}`,
      );
    if (used.has(ip)) {
      const holder = Object.values(n.endpoints).find((e) => e.ip6 && ip6ToBig(e.ip6) === ip);
      throw new ConflictError(
        'ADDRESS_IN_USE',
        `Address already in use: ${want} is ${holder ? `taken by container ${holder.containerName}` : 'the gateway'} on network ${n.name}`,
      );
    }
    return bigToIp6(ip);
  }
  const ip = nextFree6(subnet, n.ipRange6 ? parseCidr6(n.ipRange6) : subnet, used);
  if (ip === undefined)
    throw new FailedPreconditionError('NO_ADDRESS', `no available IPv6 addresses on network ${n.name}`);
  return bigToIp6(ip);
}
