// The container side of networking, kept thin: which networks a create request asks for, and
// what a starting container joins (netns path, /etc/hosts lines, resolv.conf). The work itself
// (IPAM, bridges, veths, ports, DNS) lives in src/network/.
import { ConflictError, InvalidArgumentError, isBerthError } from '../errdefs/index.ts';
import type { Attachment, EndpointRequest, NetworkManager } from '../network/index.ts';
import { linkEnv, parseLink } from './links.ts';
import type { ContainerRecord } from './record.ts';
import type { ContainerStore } from './store.ts';
import { verifyMac } from './verify.ts';
import { getOwn } from '../base/own.ts';

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  DriverOpts?: Record<string, string> | null;
  MacAddress?: string;
}

export interface NetworkingConfig {
  EndpointsConfig?: Record<string, EndpointSettings | null> | null;
}

/** `''`/`default` mean the default bridge, as in Docker. */
export function networkMode(rec: Pick<ContainerRecord, 'hostConfig'>): string {
  const m = String(rec.hostConfig.NetworkMode ?? '');
  return m === '' || m === 'default' ? 'bridge' : m;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const strList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];

/**
 * What the network manager needs from one EndpointSettings (create or connect), with the
 * settings as asked kept in `config` so inspect shows them back as Docker does.
 */
export function endpointRequest(s: EndpointSettings | null | undefined, mac?: string): EndpointRequest {
  const ipam = s?.IPAMConfig && typeof s.IPAMConfig === 'object' ? s.IPAMConfig : {};
  const ip = str(ipam.IPv4Address);
  const ip6 = str(ipam.IPv6Address);
  const linkLocal = strList(ipam.LinkLocalIPs);
  const aliases = strList(s?.Aliases);
  const links = strList(s?.Links);
  const opts =
    s?.DriverOpts && typeof s.DriverOpts === 'object' && !Array.isArray(s.DriverOpts)
      ? Object.fromEntries(Object.entries(s.DriverOpts).filter(([, v]) => typeof v === 'string'))
      : undefined;
  const m = str(s?.MacAddress) || mac;
  verifyMac(m); // the one check create and connect share; `ip link` would refuse it at start
  const ipamConfig = {
    ...(ip ? { IPv4Address: ip } : {}),
    ...(ip6 ? { IPv6Address: ip6 } : {}),
    ...(linkLocal.length > 0 ? { LinkLocalIPs: linkLocal } : {}),
  };
  const config = {
    ...(Object.keys(ipamConfig).length > 0 ? { IPAMConfig: ipamConfig } : {}),
    ...(links.length > 0 ? { Links: links } : {}),
    ...(opts && Object.keys(opts).length > 0 ? { DriverOpts: opts } : {}),
    ...(str(s?.MacAddress) ? { MacAddress: str(s?.MacAddress)!.toLowerCase() } : {}),
  };
  return {
    ...(ip ? { ip } : {}),
    ...(ip6 ? { ip6 } : {}),
    ...(aliases.length > 0 ? { aliases } : {}),
    ...(m ? { mac: m.toLowerCase() } : {}),
    ...(Object.keys(config).length > 0 ? { config } : {}),
  };
}

/**
 * At create, before the record is written: validates the mode and reserves the container's
 * address (IPAM). On failure the reservation is undone.
 */
export async function allocateNetworks(
  network: NetworkManager,
  store: ContainerStore,
  rec: ContainerRecord,
  req: { config: object; networkingConfig?: NetworkingConfig },
): Promise<void> {
  const mac = (req.config as { MacAddress?: string }).MacAddress;
  try {
    await reserve(network, store, rec, req.networkingConfig, mac);
  } catch (err) {
    await network.release(rec.id).catch(() => {});
    throw err;
  }
}

async function reserve(
  network: NetworkManager,
  store: ContainerStore,
  rec: ContainerRecord,
  cfg: NetworkingConfig | undefined,
  mac: string | undefined,
): Promise<void> {
  const mode = networkMode(rec);
  // A 404 from create makes the docker CLI think the image is missing and try to pull it.
  const notFoundAs400 = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (isBerthError(err) && err.kind === 'not-found')
        throw new InvalidArgumentError(err.code, err.message);
      throw err;
    }
  };
  if (mode.startsWith('container:')) {
    notFoundAs400(() => store.find(mode.slice('container:'.length)));
    return;
  }
  const net = notFoundAs400(() => network.find(mode));
  const eps = cfg?.EndpointsConfig ?? {};
  // One network at create: below API 1.44 Docker refuses more than one entry, whether the extra
  // networks exist or not; from 1.44 the API edge (api/versions/create.ts) connects the others.
  const named = Object.keys(eps);
  if (named.length > 1)
    throw new InvalidArgumentError(
      'TOO_MANY_NETWORKS',
      `Container cannot be connected to network endpoints: ${named.join(', ')}; connect the others with \`docker network connect\` after create`,
    );
  // Docker records an entry for another network and fails the start with 404 "network X not
  // found"; refusing at create says the same before anything is written.
  // The docker CLI keys the entry by the mode as typed, `default` included.
  const same = (k: string) => [mode, net.name, net.id].includes(k === '' || k === 'default' ? 'bridge' : k);
  for (const k of named) if (!same(k)) notFoundAs400(() => network.find(k));
  const key = named.find(same);
  const settings = key === undefined ? null : (getOwn(eps, key) ?? null);
  const req = endpointRequest(settings, mac);
  await network.allocate(
    net.id,
    rec.id,
    rec.name,
    withLegacyLinks(req, rec, net.driver === 'bridge' && !net.isDefault),
  );
}

/**
 * HostConfig.Links on a user-defined network are names the embedded DNS answers for this
 * container (Docker folds them into the endpoint's Links); /etc/hosts lines are the default
 * bridge's way only.
 */
function withLegacyLinks(req: EndpointRequest, rec: ContainerRecord, userNet: boolean): EndpointRequest {
  const legacy = (rec.hostConfig.Links as string[] | null | undefined) ?? [];
  if (!userNet || legacy.length === 0) return req;
  const own = req.config?.Links ?? [];
  const links = [...own];
  for (const l of legacy) {
    const [rawName, rawAlias] = l.split(':');
    const name = rawName!.replace(/^\//, '');
    const alias = (rawAlias ?? name).split('/').pop()!;
    const v = `${name}:${alias}`;
    if (!links.includes(v)) links.push(v);
  }
  return { ...req, config: { ...req.config, Links: links } };
}

export interface ContainerNet extends Attachment {
  /** `ip names` lines for --link (default bridge). */
  readonly links: string[];
  /** The environment each link adds (links.ts), before the container's own Env. */
  readonly linkEnv?: string[];
}

/** At start: joins another container's netns or builds this one's. */
export async function attachNetworks(
  network: NetworkManager,
  store: ContainerStore,
  rec: ContainerRecord,
): Promise<ContainerNet> {
  const mode = networkMode(rec);
  if (mode.startsWith('container:')) {
    const other = store.find(mode.slice('container:'.length));
    if (other.state.status !== 'running' && other.state.status !== 'paused')
      throw new ConflictError(
        'CONTAINER_NOT_RUNNING',
        `cannot join network of a non running container: ${other.name}`,
      );
    return { netns: `/proc/${other.state.pid}/ns/net`, hosts: [], links: [] };
  }
  const h = rec.hostConfig;
  const att = await network.attach(rec.id, {
    portBindings: h.PortBindings as
      | Record<string, { HostIp?: string; HostPort?: string }[] | null>
      | undefined,
    publishAll: h.PublishAllPorts === true,
    exposed: rec.config.ExposedPorts,
  });
  const links: string[] = [];
  const linkEnvs: string[] = [];
  // On user-defined networks links are DNS names (withLegacyLinks), not /etc/hosts lines nor
  // link variables (Docker sets those for default-bridge links only).
  const onDefault = network.endpointsOf(rec.id).some((e) => e.net.isDefault);
  for (const l of onDefault ? ((h.Links as string[] | null | undefined) ?? []) : []) {
    const { name, alias } = parseLink(l);
    const target = store.find(name);
    const ip = network.endpointsOf(target.id).find((e) => e.net.isDefault)?.ep.ip;
    if (!ip || target.state.status !== 'running')
      throw new ConflictError(
        'LINK_NOT_RUNNING',
        `cannot link to ${name}: it is not running on the default bridge network`,
      );
    links.push(
      `${ip}\t${[alias, name, target.id.slice(0, 12)].filter((x, i, a) => a.indexOf(x) === i).join(' ')}`,
    );
    linkEnvs.push(
      ...linkEnv({
        parentName: rec.name,
        alias,
        ip,
        ...(target.config.ExposedPorts ? { exposed: target.config.ExposedPorts } : {}),
        env: target.config.Env ?? [],
      }),
    );
  }
  return { ...att, links, linkEnv: linkEnvs };
}
