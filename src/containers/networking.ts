// The container side of networking, kept thin: which networks a create request asks for, and
// what a starting container joins (netns path, /etc/hosts lines, resolv.conf). The work itself
// (IPAM, bridges, veths, ports, DNS) lives in src/network/.
import { ConflictError, InvalidArgumentError, isBerthError } from '../errdefs/index.ts';
import type { Attachment, EndpointRequest, NetworkManager } from '../network/index.ts';
import type { ContainerRecord } from './record.ts';
import type { ContainerStore } from './store.ts';
import { getOwn } from '../base/own.ts';

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string } | null;
  Aliases?: string[] | null;
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

export function endpointRequest(s: EndpointSettings | null | undefined, mac?: string): EndpointRequest {
  const ip = s?.IPAMConfig?.IPv4Address;
  const aliases = (s?.Aliases ?? []).filter(Boolean);
  const m = s?.MacAddress || mac;
  if (m && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(m))
    throw new InvalidArgumentError(
      'INVALID_MAC',
      `invalid MAC address "${m}": use six hex pairs like 02:42:ac:11:00:02`,
    );
  return {
    ...(ip ? { ip } : {}),
    ...(aliases.length > 0 ? { aliases } : {}),
    ...(m ? { mac: m.toLowerCase() } : {}),
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
  const settings = getOwn(eps, mode) ?? getOwn(eps, net.name) ?? getOwn(eps, net.id) ?? null;
  await network.allocate(net.id, rec.id, rec.name, endpointRequest(settings, mac));
}

export interface ContainerNet extends Attachment {
  /** `ip names` lines for --link (default bridge). */
  readonly links: string[];
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
  for (const l of (h.Links as string[] | null | undefined) ?? []) {
    // `name:alias` from the CLI, `/name:/me/alias` as Docker stores it.
    const [rawName, rawAlias] = l.split(':');
    const name = rawName!.replace(/^\//, '');
    const alias = (rawAlias ?? name).split('/').pop()!;
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
  }
  return { ...att, links };
}
