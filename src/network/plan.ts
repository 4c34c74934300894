// Validation of `network create`: the request and the facts it is checked against (host routes,
// other networks) in, a complete record out, or a clear error naming what was wrong.
import { ConflictError, FailedPreconditionError, InvalidArgumentError } from '../errdefs/index.ts';
import {
  type Cidr,
  contains,
  formatCidr,
  intToIp,
  ipToInt,
  overlaps,
  parseCidr,
  pickSubnet,
} from './ipam.ts';
import { bigToIp6, contains6, formatCidr6, ip6ToBig, isIPv6, parseCidr6 } from './ipam6.ts';
import type { CreateNetworkRequest } from './manager.ts';
import type { NetworkRecord } from './store.ts';

export interface PlanContext {
  readonly id: string;
  /** Host routes and the subnets of existing networks. */
  readonly taken: readonly Cidr[];
  readonly names: ReadonlySet<string>;
  readonly bridges: ReadonlySet<string>;
  readonly pools: readonly Cidr[];
}

export function planNetwork(req: CreateNetworkRequest, ctx: PlanContext): NetworkRecord {
  if (!req.name) throw new InvalidArgumentError('INVALID_NAME', 'network name must not be empty');
  // Docker takes any name (spaces too: `docker network create "test 01"`); only control
  // characters, which no client can show or type back, are refused.
  if (/[\x00-\x1f\x7f]/.test(req.name))
    throw new InvalidArgumentError(
      'INVALID_NAME',
      `invalid network name ${JSON.stringify(req.name)}: control characters are not allowed`,
    );
  if (['bridge', 'host', 'none', 'default'].includes(req.name) || ctx.names.has(req.name))
    throw new ConflictError('NETWORK_EXISTS', `network with name ${req.name} already exists`);
  const driver = req.driver || 'bridge';
  if (driver !== 'bridge')
    throw new InvalidArgumentError(
      'INVALID_DRIVER',
      `driver "${driver}" is not supported: only bridge networks can be created (host and none exist already)`,
    );
  const v4 = (req.ipam ?? []).filter((c) => !isIPv6(c.Subnet ?? c.Gateway ?? c.IPRange ?? ''));
  const v6 = (req.ipam ?? []).filter((c) => isIPv6(c.Subnet ?? c.Gateway ?? c.IPRange ?? ''));
  const cfg = v4[0] ?? {};
  if (v4.length > 1 || v6.length > 1)
    throw new InvalidArgumentError(
      'INVALID_IPAM',
      'only one IPv4 and one IPv6 IPAM config per network are supported',
    );
  const ip6 = planV6(v6[0], Boolean(req.enableIPv6));
  const taken = ctx.taken;
  let subnet: Cidr;
  if (cfg.Subnet) {
    subnet = parseCidr(cfg.Subnet);
    if (subnet.bits > 30)
      throw new InvalidArgumentError(
        'INVALID_SUBNET',
        `subnet ${cfg.Subnet} is too small: use /30 or larger`,
      );
    const clash = taken.find((t) => overlaps(t, subnet));
    if (clash)
      throw new ConflictError(
        'SUBNET_OVERLAP',
        `invalid pool request: Pool overlaps with other one on this address space (${cfg.Subnet} overlaps ${formatCidr(clash)})`,
      );
  } else {
    if (cfg.Gateway || cfg.IPRange)
      throw new InvalidArgumentError('INVALID_IPAM', 'a gateway or ip-range needs a --subnet');
    const sub = pickSubnet(ctx.pools, 24, taken);
    if (!sub)
      throw new FailedPreconditionError(
        'NO_SUBNET',
        'no free subnet left in the address pools; give one with --subnet',
      );
    subnet = sub;
  }
  let gateway = intToIp(subnet.base + 1);
  if (cfg.Gateway) {
    const gw = ipToInt(cfg.Gateway);
    if (gw === undefined || !contains(subnet, gw) || gw === subnet.base)
      throw new InvalidArgumentError(
        'INVALID_GATEWAY',
        `gateway ${cfg.Gateway} is not a host address inside subnet ${formatCidr(subnet)}`,
      );
    gateway = cfg.Gateway;
  }
  if (cfg.IPRange) {
    const r = parseCidr(cfg.IPRange, 'ip-range');
    if (!contains(subnet, r.base) || r.bits < subnet.bits)
      throw new InvalidArgumentError(
        'INVALID_IP_RANGE',
        `ip-range ${cfg.IPRange} is not inside subnet ${formatCidr(subnet)}`,
      );
  }
  for (const [k, v] of Object.entries(cfg.AuxiliaryAddresses ?? {})) {
    const ip = ipToInt(v);
    if (ip === undefined || !contains(subnet, ip))
      throw new InvalidArgumentError(
        'INVALID_AUX_ADDRESS',
        `aux-address ${k}=${v} is not inside subnet ${formatCidr(subnet)}`,
      );
  }
  const opts = req.options ?? {};
  const id = ctx.id;
  const bridge = opts['com.docker.network.bridge.name'] ?? `br-${id.slice(0, 12)}`;
  if (bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(bridge))
    throw new InvalidArgumentError(
      'INVALID_BRIDGE_NAME',
      `bridge name "${bridge}" must be 1-15 of [a-zA-Z0-9_.-]`,
    );
  if (ctx.bridges.has(bridge))
    throw new ConflictError('BRIDGE_EXISTS', `bridge name ${bridge} is already used by another network`);
  const mtuOpt = opts['com.docker.network.driver.mtu'];
  const mtu = mtuOpt ? Number(mtuOpt) : undefined;
  if (mtu !== undefined && !(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535))
    throw new InvalidArgumentError('INVALID_MTU', `invalid MTU "${mtuOpt}": use 68-65535`);
  const rec: NetworkRecord = {
    id,
    name: req.name,
    driver: 'bridge',
    created: new Date().toISOString(),
    internal: Boolean(req.internal),
    attachable: Boolean(req.attachable),
    labels: req.labels ?? {},
    options: opts,
    ...(req.ipamOptions ? { ipamOptions: req.ipamOptions } : {}),
    bridge,
    subnet: formatCidr(subnet),
    gateway,
    ...(cfg.IPRange ? { ipRange: cfg.IPRange } : {}),
    ...(cfg.AuxiliaryAddresses ? { auxAddresses: cfg.AuxiliaryAddresses } : {}),
    ...(mtu ? { mtu } : {}),
    ...ip6,
    endpoints: {},
  };
  return rec;
}

/**
 * The IPv6 half of a network. `--ipv6` needs a subnet (Berth has no default IPv6 pool, as
 * Docker without `default-address-pools` for v6); a v6 pool without `--ipv6` is kept, as
 * Docker 20.10 keeps it, but addresses are handed out only with `--ipv6`.
 */
function planV6(
  cfg: { Subnet?: string; Gateway?: string; IPRange?: string } | undefined,
  enable: boolean,
): Pick<NetworkRecord, 'enableIPv6' | 'subnet6' | 'gateway6' | 'ipRange6'> {
  if (!cfg?.Subnet) {
    if (enable)
      throw new InvalidArgumentError(
        'IPV6_SUBNET_REQUIRED',
        'an IPv6 network needs an IPv6 subnet: add --subnet with an IPv6 prefix like fd42:1::/64',
      );
    if (cfg) throw new InvalidArgumentError('INVALID_IPAM', 'an IPv6 gateway or ip-range needs a --subnet');
    return {};
  }
  const subnet = parseCidr6(cfg.Subnet);
  if (subnet.bits > 126)
    throw new InvalidArgumentError('INVALID_SUBNET', `subnet ${cfg.Subnet} is too small: use /126 or larger`);
  let gateway = subnet.base + 1n;
  if (cfg.Gateway) {
    const gw = ip6ToBig(cfg.Gateway);
    if (gw === undefined || !contains6(subnet, gw) || gw === subnet.base)
      throw new InvalidArgumentError(
        'INVALID_GATEWAY',
        `gateway ${cfg.Gateway} is not a host address inside subnet ${formatCidr6(subnet)}`,
      );
    gateway = gw;
  }
  let ipRange6: string | undefined;
  if (cfg.IPRange) {
    const r = parseCidr6(cfg.IPRange, 'ip-range');
    if (!contains6(subnet, r.base) || r.bits < subnet.bits)
      throw new InvalidArgumentError(
        'INVALID_IP_RANGE',
        `ip-range ${cfg.IPRange} is not inside subnet ${formatCidr6(subnet)}`,
      );
    ipRange6 = formatCidr6(r);
  }
  return {
    ...(enable ? { enableIPv6: true } : {}),
    subnet6: formatCidr6(subnet),
    gateway6: bigToIp6(gateway),
    ...(ipRange6 ? { ipRange6 } : {}),
  };
}
