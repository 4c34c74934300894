// IPAM for one endpoint on a bridge network: the address a container gets (the one asked for,
// checked against the subnet and the addresses taken, or the next free one after the last given
// out), its IPv6 address and MAC. Pure: the manager runs it inside the store's per-network lock.
import { randomBytes } from 'node:crypto';
import { ConflictError, FailedPreconditionError, InvalidArgumentError } from '../errdefs/index.ts';
import { contains, intToIp, ipToInt, macFor, nextFree, parseCidr } from './ipam.ts';
import { pickIp6 } from './ipam6.ts';
import type { Endpoint, EndpointConfig, NetworkRecord } from './store.ts';

export interface EndpointRequest {
  readonly ip?: string;
  readonly ip6?: string;
  readonly aliases?: string[];
  readonly mac?: string;
  /** The settings as requested, kept for inspect. */
  readonly config?: EndpointConfig;
}

export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** `n` with an endpoint for the container at an address from `req` or the next free one. */
export function withAddressedEndpoint(
  n: NetworkRecord,
  containerId: string,
  containerName: string,
  req: EndpointRequest,
): NetworkRecord {
  const subnet = parseCidr(n.subnet!);
  const used = new Set<number>([ipToInt(n.gateway!)!]);
  for (const a of Object.values(n.auxAddresses ?? {})) used.add(ipToInt(a)!);
  for (const e of Object.values(n.endpoints)) used.add(ipToInt(e.ip)!);
  let ip: number | undefined;
  if (req.ip) {
    ip = ipToInt(req.ip);
    if (ip === undefined) throw new InvalidArgumentError('INVALID_IP', `invalid IPv4 address "${req.ip}"`);
    if (!contains(subnet, ip) || ip === subnet.base || ip === subnet.base + 2 ** (32 - subnet.bits) - 1)
      throw new InvalidArgumentError(
        'INVALID_IP',
        `invalid address ${req.ip}: it is not a host address in network ${n.name}'s subnet ${n.subnet}`,
      );
    if (used.has(ip)) {
      const holder = Object.values(n.endpoints).find((e) => e.ip === req.ip);
      throw new ConflictError(
        'ADDRESS_IN_USE',
        `Address already in use: ${req.ip} is ${holder ? `taken by container ${holder.containerName}` : 'reserved (gateway or aux address)'} on network ${n.name}`,
      );
    }
  } else {
    const range = n.ipRange ? parseCidr(n.ipRange) : subnet;
    ip = nextFree(subnet, range, used, n.lastIp ? ipToInt(n.lastIp) : undefined);
    if (ip === undefined)
      throw new FailedPreconditionError('NO_ADDRESS', `no available IPv4 addresses on network ${n.name}`);
  }
  const ip6 = pickIp6(n, req.ip6);
  const ep: Endpoint = {
    containerId,
    containerName,
    endpointId: newId(),
    ip: intToIp(ip),
    mac: req.mac || macFor(ip),
    aliases: req.aliases ?? [],
    staticIp: Boolean(req.ip),
    ...(ip6 ? { ip6 } : {}),
    ...(req.config ? { config: req.config } : {}),
  };
  return {
    ...n,
    ...(req.ip ? {} : { lastIp: ep.ip }),
    endpoints: { ...n.endpoints, [containerId]: ep },
  };
}
