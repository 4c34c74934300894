// IPv4 address management, pure functions: CIDR parsing, overlap checks, choosing a free subnet
// and the next free address. Persisting allocations is the network store's job.
import { InvalidArgumentError } from '../errdefs/index.ts';

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly bits: number;
}

export function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Parses `a.b.c.d/n`; host bits are cleared (Docker accepts `10.1.2.3/24` as `10.1.2.0/24`). */
export function parseCidr(s: string, what = 'subnet'): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s.trim());
  const ip = m ? ipToInt(m[1]!) : undefined;
  const bits = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(bits >= 0 && bits <= 32)) {
    throw new InvalidArgumentError(
      'INVALID_SUBNET',
      `invalid ${what} "${s}": use IPv4 CIDR notation like 10.1.2.0/24`,
    );
  }
  return { base: (ip & mask(bits)) >>> 0, bits };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.bits}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.bits);
}

export function contains(c: Cidr, ip: number): boolean {
  return (ip & mask(c.bits)) >>> 0 === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  return (a.base & mask(bits)) >>> 0 === (b.base & mask(bits)) >>> 0;
}

/**
 * First subnet of `pools` (each split into subnets of `bits`) that overlaps none of `taken`
 * (host routes and other networks).
 */
export function pickSubnet(pools: readonly Cidr[], bits: number, taken: readonly Cidr[]): Cidr | undefined {
  for (const pool of pools) {
    const step = 2 ** (32 - bits);
    for (let b = pool.base; b < pool.base + size(pool); b += step) {
      const cand = { base: b >>> 0, bits };
      if (!taken.some((t) => overlaps(t, cand))) return cand;
    }
  }
  return undefined;
}

/**
 * The next free address in `range` (within `subnet`), skipping the network and broadcast
 * addresses and everything in `used` (gateway, aux addresses, existing endpoints).
 * Starts after `last` so freed addresses are not reused at once (as Docker does).
 */
export function nextFree(
  subnet: Cidr,
  range: Cidr,
  used: ReadonlySet<number>,
  last?: number,
): number | undefined {
  const lo = Math.max(range.base, subnet.base + 1);
  const hi = Math.min(range.base + size(range), subnet.base + size(subnet) - 1); // exclusive; drops broadcast
  const n = hi - lo;
  if (n <= 0) return undefined;
  const start = last !== undefined && last >= lo && last < hi ? last + 1 - lo : 0;
  for (let i = 0; i < n; i++) {
    const ip = lo + ((start + i) % n);
    if (!used.has(ip)) return ip >>> 0;
  }
  return undefined;
}

/** Routes of the host (`ip -4 route` lines) as CIDRs; the default route is ignored. */
export function routeCidrs(ipRouteOutput: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of ipRouteOutput.split('\n')) {
    const dst = line.trim().split(/\s+/)[0];
    if (!dst || dst === 'default') continue;
    try {
      out.push(parseCidr(dst.includes('/') ? dst : `${dst}/32`));
    } catch {
      /* not an IPv4 route */
    }
  }
  return out;
}

/** A MAC address derived from the IP, as Docker does (02:42 + the four IP bytes). */
export function macFor(ip: number): string {
  return [
    '02',
    '42',
    ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0')),
  ].join(':');
}
