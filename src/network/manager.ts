// Networks as a service for the daemon and the container service: the predefined networks,
// create/remove/prune, IPAM per endpoint (persisted in the network record), and attaching a
// container's endpoints (netns, veths, published ports, DNS names) when it starts.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { crashPoint } from '../base/crashpoint.ts';
import { KeyedMutex } from '../base/lock.ts';
import type { Log } from '../base/log.ts';
import { span } from '../base/trace.ts';
import {
  ConflictError,
  FailedPreconditionError,
  ForbiddenError,
  InvalidArgumentError,
  NotFoundError,
} from '../errdefs/index.ts';
import {
  type Chains,
  bridgePorts,
  linkExists,
  chainsFor,
  createNetnsWithEndpoint,
  deleteBridge,
  ensureBridge,
  plugEndpoint,
  removeNetns,
  removeRules,
  syncRules,
  unplugEndpoint,
} from './bridge.ts';
import { cmd } from './command.ts';
import { type DnsServer, startDns } from './dns.ts';
import { type Cidr, formatCidr, intToIp, ipToInt, parseCidr, pickSubnet, routeCidrs } from './ipam.ts';
import { type EndpointRequest, newId, withAddressedEndpoint } from './endpoint-alloc.ts';
import { type PortProxy, planBindings, startProxies } from './ports.ts';
import { planNetwork } from './plan.ts';
import type { Endpoint, NetworkRecord, NetworkStore, PortBinding } from './store.ts';

export type { EndpointRequest } from './endpoint-alloc.ts';

export interface NetworkManagerOptions {
  readonly store: NetworkStore;
  /** Where container netns files live (`<exec-root>/netns`). */
  readonly netnsDir: string;
  /** Default bridge device name (dockerd's --bridge); also this daemon's tag for chains. */
  readonly bridgeName: string;
  /** Gateway address/prefix of the default bridge (dockerd's --bip), else chosen. */
  readonly bip?: string;
  /** Where the embedded DNS forwards other names; default: the host's resolv.conf servers. */
  readonly upstreams?: string[];
  readonly log: Log;
}

export interface CreateNetworkRequest {
  readonly name: string;
  readonly driver?: string;
  readonly internal?: boolean;
  readonly attachable?: boolean;
  readonly enableIPv6?: boolean;
  readonly labels?: Record<string, string>;
  readonly options?: Record<string, string>;
  readonly ipamOptions?: Record<string, string>;
  readonly ipam?: {
    Subnet?: string;
    Gateway?: string;
    IPRange?: string;
    AuxiliaryAddresses?: Record<string, string>;
  }[];
}

/** What a starting container needs from its networks. */
export interface Attachment {
  /** netns path to join; 'host' for --network host; undefined: a private netns (none). */
  readonly netns?: string;
  /** `ip name` lines for /etc/hosts (own address first). */
  readonly hosts: string[];
  /** Name servers for resolv.conf when the embedded DNS applies. */
  readonly dns?: string;
}

const POOLS = ['172.18.0.0/16', '172.19.0.0/16', '172.20.0.0/14', '10.210.0.0/16'].map((c) => parseCidr(c));
const DEFAULT_POOL = [parseCidr('172.17.0.0/16'), parseCidr('10.211.0.0/16')];

export class NetworkManager {
  /** Containers whose netns a --rm exit removed for the release that follows (see release). */
  readonly #detachedForRelease = new Set<string>();
  readonly #o: NetworkManagerOptions;
  readonly #chains: Chains;
  readonly #proxies = new Map<string, PortProxy[]>();
  readonly #dns = new Map<string, DnsServer>();
  /**
   * `networks` serialises create and remove: a create reads the subnets, names and bridge
   * names in use and only then records its own, so two at once (testcontainers starting
   * networks in parallel) would pick the same subnet. `rules` serialises iptables syncs, each
   * taking its snapshot of the networks inside the lock, so an older snapshot never lands last.
   */
  readonly #lock = new KeyedMutex();
  #upstreams: string[] = [];

  private constructor(o: NetworkManagerOptions) {
    this.#o = o;
    this.#chains = chainsFor(o.bridgeName);
  }

  static async open(o: NetworkManagerOptions): Promise<NetworkManager> {
    const m = new NetworkManager(o);
    await m.#predefined();
    const text = await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    m.#upstreams =
      o.upstreams ?? [...text.matchAll(/^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)/gm)].map((x) => x[1]!);
    return m;
  }

  get store(): NetworkStore {
    return this.#o.store;
  }

  list(): NetworkRecord[] {
    return this.#o.store.all();
  }

  find(ref: string): NetworkRecord {
    return this.#o.store.find(ref);
  }

  async #predefined(): Promise<void> {
    const s = this.#o.store;
    const now = new Date().toISOString();
    const base = { created: now, internal: false, attachable: false, labels: {}, options: {}, endpoints: {} };
    if (!s.byName('none')) await s.put({ ...base, id: newId(), name: 'none', driver: 'null' });
    if (!s.byName('host')) await s.put({ ...base, id: newId(), name: 'host', driver: 'host' });
    const cur = s.byName('bridge');
    // The default bridge follows the daemon's flags at each start (as dockerd's --bridge/--bip).
    let subnet: Cidr;
    let gateway: string;
    if (this.#o.bip) {
      const [ip, bits] = this.#o.bip.split('/');
      const gw = ipToInt(ip ?? '');
      if (gw === undefined || bits === undefined)
        throw new InvalidArgumentError(
          'INVALID_BIP',
          `invalid bip "${this.#o.bip}": use GATEWAY/PREFIX like 10.199.3.1/24`,
        );
      subnet = parseCidr(`${ip}/${bits}`);
      gateway = ip!;
    } else if (cur?.subnet) {
      subnet = parseCidr(cur.subnet);
      gateway = cur.gateway!;
    } else {
      const taken = await this.#takenCidrs();
      const sub = pickSubnet(DEFAULT_POOL, 16, taken) ?? pickSubnet(POOLS, 24, taken);
      if (!sub)
        throw new FailedPreconditionError('NO_SUBNET', 'no free subnet for the default bridge; set --bip');
      subnet = sub;
      gateway = intToIp(sub.base + 1);
    }
    const rec: NetworkRecord = {
      ...base,
      ...(cur ?? {}),
      id: cur?.id ?? newId(),
      name: 'bridge',
      driver: 'bridge',
      bridge: this.#o.bridgeName,
      subnet: formatCidr(subnet),
      gateway,
      isDefault: true,
      options: {
        'com.docker.network.bridge.name': this.#o.bridgeName,
        'com.docker.network.bridge.default_bridge': 'true',
      },
      endpoints: cur?.endpoints ?? {},
    };
    await s.put(rec);
  }

  async #takenCidrs(exclude?: string): Promise<Cidr[]> {
    // Our own bridges' routes are not "the host's": compare against our records instead.
    const ownBridges = new Set(
      this.list()
        .map((n) => n.bridge)
        .filter(Boolean),
    );
    const own = this.list()
      .filter((n) => n.subnet && n.id !== exclude)
      .map((n) => parseCidr(n.subnet!));
    const text = await cmd('ip', ['-4', '-o', 'route', 'show']).catch(() => '');
    const foreign = text
      .split('\n')
      .filter((l) => ![...ownBridges].some((b) => l.includes(` dev ${b} `)))
      .join('\n');
    return [...routeCidrs(foreign), ...own];
  }

  /**
   * Brings up bridges, rules and DNS for the records; removes leftovers of this daemon.
   * `containers` (ID → name), when given, is every container that exists: endpoints of others
   * (a removal cut short) are dropped, names follow renames, and a running container's endpoint
   * without its interface (a connect or disconnect cut short) is plugged again.
   */
  async reconcile(running: ReadonlySet<string>, containers?: ReadonlyMap<string, string>): Promise<void> {
    for (const n of this.list()) {
      if (!containers) break;
      const stale = Object.values(n.endpoints).filter(
        (ep) => !containers.has(ep.containerId) || containers.get(ep.containerId) !== ep.containerName,
      );
      if (stale.length === 0) continue;
      for (const ep of stale)
        if (!containers.has(ep.containerId) && ep.vethHost) await unplugEndpoint(ep.vethHost);
      await this.#o.store.update(n.id, (cur) => {
        const eps: Record<string, Endpoint> = {};
        for (const [cid, ep] of Object.entries(cur.endpoints)) {
          const name = containers.get(cid);
          if (name !== undefined) eps[cid] = { ...ep, containerName: name };
        }
        return { ...cur, endpoints: eps };
      });
    }
    const bridges = this.list().filter((n) => n.driver === 'bridge');
    for (const n of bridges) {
      await ensureBridge(n);
      // Endpoints of containers that are no longer running lose their veth and ports.
      let changed = false;
      const eps = { ...n.endpoints };
      for (const [cid, ep] of Object.entries(eps)) {
        const gone = ep.vethHost !== undefined && running.has(cid) && !(await linkExists(ep.vethHost));
        if ((!running.has(cid) && (ep.vethHost || ep.ports)) || gone) {
          if (ep.vethHost) await unplugEndpoint(ep.vethHost);
          const { vethHost: _v, ports: _p, ...rest } = ep;
          eps[cid] = rest;
          changed = true;
        }
      }
      if (changed) await this.#o.store.update(n.id, (cur) => ({ ...cur, endpoints: eps }));
      const live = new Set(
        Object.values(eps)
          .map((e) => e.vethHost)
          .filter(Boolean),
      );
      for (const port of await bridgePorts(n.bridge!)) if (!live.has(port)) await unplugEndpoint(port);
    }
    // From the records as just updated: `bridges` still holds the endpoints stripped above.
    await this.#syncRules();
    for (const f of await fsp.readdir(this.#o.netnsDir).catch(() => [] as string[])) {
      if (!running.has(f)) await removeNetns(path.join(this.#o.netnsDir, f));
    }
    for (const n of bridges) await this.#ensureDns(n);
    for (const cid of running) await this.#replugMissing(cid);
    // Serve the published ports of containers that kept running while berthd was down.
    for (const cid of running) {
      for (const { ep } of this.endpointsOf(cid)) {
        if (ep.ports && ep.ports.length > 0) {
          const proxies = await startProxies(ep.ports, ep.ip).catch((err) => {
            this.#o.log('warn', 'cannot serve published ports again', { id: cid, err: String(err) });
            return [] as PortProxy[];
          });
          this.#proxies.set(cid, proxies);
        }
      }
    }
  }

  /**
   * A running container's bridge endpoints without an interface (berthd died between reserving
   * and plugging, or between unplugging and releasing) get it back; one that cannot be plugged
   * is released, so inspect never shows an endpoint the container does not have.
   */
  async #replugMissing(cid: string): Promise<void> {
    const eps = this.endpointsOf(cid).filter((e) => e.net.driver === 'bridge');
    if (!eps.some((e) => !e.ep.vethHost)) return;
    const netns = await fsp.access(this.netnsPath(cid)).then(
      () => true,
      () => false,
    );
    if (!netns) return;
    let plugged = eps.filter((e) => e.ep.vethHost).length;
    for (const { net, ep } of eps) {
      if (ep.vethHost) continue;
      try {
        await this.#plug(cid, net, ep, `eth${plugged}`, plugged === 0);
        plugged++;
        this.#o.log('info', 'plugged an endpoint a crash left without its interface', {
          id: cid,
          network: net.name,
        });
      } catch (err) {
        this.#o.log('warn', 'dropping an endpoint that cannot be plugged again', {
          id: cid,
          network: net.name,
          err: String(err),
        });
        await this.#setEndpoint(net.id, cid, () => undefined);
      }
    }
  }

  /** A renamed container's endpoints answer DNS under the new name. */
  async renameEndpoints(containerId: string, name: string): Promise<void> {
    for (const { net } of this.endpointsOf(containerId))
      await this.#setEndpoint(net.id, containerId, (e) => ({ ...e, containerName: name }));
  }

  async #ensureDns(n: NetworkRecord): Promise<void> {
    if (n.isDefault || n.driver !== 'bridge' || this.#dns.has(n.id)) return;
    try {
      const srv = await startDns(n.gateway!, (name, from) => this.#lookup(n.id, name, from), this.#upstreams);
      this.#dns.set(n.id, srv);
    } catch (err) {
      this.#o.log('warn', 'embedded DNS not started', { network: n.name, err: String(err) });
    }
  }

  #lookup(netId: string, asked: string, from: string): string[] {
    const n = this.#o.store.get(netId);
    if (!n) return [];
    // `--link target:alias` on a user-defined network: the alias is a name for the linking
    // container only, resolved to the target's current address.
    const querier = Object.values(n.endpoints).find((e) => e.ip === from);
    const link = querier?.config?.Links?.map((l) => l.split(':')).find(
      ([t, a]) => (a ?? t)!.toLowerCase() === asked.toLowerCase(),
    );
    const name = (link ? link[0]! : asked).replace(/^\//, '').toLowerCase();
    const out: string[] = [];
    for (const ep of Object.values(n.endpoints)) {
      if (!ep.vethHost) continue; // only running containers have names
      const names = [ep.containerName, ep.containerId.slice(0, 12), ...ep.aliases].map((x) =>
        x.toLowerCase(),
      );
      if (names.includes(name)) out.push(ep.ip, ...(ep.ip6 ? [ep.ip6] : []));
    }
    return out;
  }

  /** Stops the DNS servers and proxies (containers and their networks stay). */
  async close(): Promise<void> {
    for (const d of this.#dns.values()) await d.close();
    this.#dns.clear();
    for (const ps of this.#proxies.values()) for (const p of ps) await p.close();
    this.#proxies.clear();
  }

  /** Removes every bridge and rule of this daemon when no container uses them (shutdown). */
  async teardownUnused(): Promise<void> {
    const bridges = this.list().filter((n) => n.driver === 'bridge');
    const inUse = bridges.some((n) => Object.values(n.endpoints).some((e) => e.vethHost));
    if (inUse) return;
    for (const n of bridges) await deleteBridge(n.bridge!);
    await removeRules(this.#chains);
  }

  create(req: CreateNetworkRequest): Promise<{ id: string; warning: string }> {
    return this.#lock.run('networks', () => this.#create(req));
  }

  async #create(req: CreateNetworkRequest): Promise<{ id: string; warning: string }> {
    const s = this.#o.store;
    const rec = planNetwork(req, {
      id: newId(),
      taken: await this.#takenCidrs(),
      names: new Set(this.list().map((n) => n.name)),
      bridges: new Set(this.list().map((n) => n.bridge ?? '')),
      pools: POOLS,
    });
    const { id, bridge } = { id: rec.id, bridge: rec.bridge! };
    try {
      await ensureBridge(rec);
      await s.put(rec);
      await this.#syncRules();
      await this.#ensureDns(rec);
    } catch (err) {
      await s.delete(id);
      await deleteBridge(bridge);
      await this.#syncRules().catch(() => {});
      throw err;
    }
    return { id, warning: '' };
  }

  remove(ref: string, containerNames: (id: string) => string): Promise<void> {
    return this.#lock.run('networks', () => this.#remove(ref, containerNames));
  }

  async #remove(ref: string, containerNames: (id: string) => string): Promise<void> {
    const n = this.find(ref);
    if (n.driver !== 'bridge' || n.isDefault) throw new ForbiddenNetwork(n.name);
    const users = Object.keys(n.endpoints);
    if (users.length > 0) {
      throw new ConflictError(
        'NETWORK_IN_USE',
        `error while removing network: network ${n.name} id ${n.id} has active endpoints (${users.map(containerNames).join(', ')}); remove or disconnect them first`,
      );
    }
    await this.#dns.get(n.id)?.close();
    this.#dns.delete(n.id);
    await this.#o.store.delete(n.id);
    await deleteBridge(n.bridge!);
    await this.#syncRules();
  }

  /** Records of the container's endpoints, with their network. */
  endpointsOf(containerId: string): { net: NetworkRecord; ep: Endpoint }[] {
    const out: { net: NetworkRecord; ep: Endpoint }[] = [];
    for (const net of this.list()) {
      const ep = net.endpoints[containerId];
      if (ep) out.push({ net, ep });
    }
    return out;
  }

  /** IPAM: reserves an address on `ref` for the container (at create or connect). */
  async allocate(
    ref: string,
    containerId: string,
    containerName: string,
    req: EndpointRequest = {},
  ): Promise<NetworkRecord> {
    const n = this.find(ref);
    if (n.endpoints[containerId])
      throw new ConflictError(
        'ALREADY_CONNECTED',
        `endpoint with name ${containerName} already exists in network ${n.name}`,
      );
    if (n.driver !== 'bridge') {
      if (req.ip)
        throw new InvalidArgumentError(
          'INVALID_IP',
          `user specified IP address is supported only on user defined networks, not on ${n.name}`,
        );
      // host and none: an endpoint without an address, so the container is listed on them.
      const ep: Endpoint = {
        containerId,
        containerName,
        endpointId: newId(),
        ip: '',
        mac: '',
        aliases: [],
        staticIp: false,
        ...(req.config ? { config: req.config } : {}),
      };
      return this.#o.store.update(n.id, (cur) => ({
        ...cur,
        endpoints: { ...cur.endpoints, [containerId]: ep },
      }));
    }
    if ((req.ip || req.ip6 || (req.aliases?.length ?? 0) > 0) && n.isDefault)
      throw new InvalidArgumentError(
        'INVALID_IP',
        req.ip || req.ip6
          ? 'user specified IP address is supported on user defined networks only'
          : 'network-scoped alias is supported only for containers in user defined networks',
      );
    // Computed inside the store's per-network lock, so two creates never pick the same address.
    return this.#o.store.update(n.id, (cur) => withAddressedEndpoint(cur, containerId, containerName, req));
  }

  /** Gives back the container's address on `ref` (or on every network). */
  async release(containerId: string, netId?: string): Promise<void> {
    // Detached for this release (a --rm exit): the veths went with the netns, and the records
    // are rewritten once, here, without an unplugged state first.
    const detached = !netId && this.#detachedForRelease.delete(containerId);
    for (const { net, ep } of this.endpointsOf(containerId)) {
      if (netId && net.id !== netId) continue;
      await this.#unplug(containerId, net, ep, detached, detached);
      crashPoint('release:after-unplug'); // disconnect, and rm's release
      await this.#setEndpoint(net.id, containerId, () => undefined);
    }
  }

  /**
   * Takes an endpoint off its bridge. `netnsGoing`: the netns is about to be destroyed (the
   * container exited), which destroys the veth pair with it: one spawn less on the exit path.
   */
  async #unplug(
    containerId: string,
    net: NetworkRecord,
    ep: Endpoint,
    netnsGoing = false,
    releasing = false,
  ): Promise<void> {
    if (ep.vethHost && !netnsGoing) await unplugEndpoint(ep.vethHost);
    // An endpoint without an interface or ports (`none`, an unplugged one) has nothing to
    // forget: rewriting its record unchanged cost two fsyncs on every `--network none` exit.
    // Nor does one whose release follows (see detach); ports always go at once (the rules).
    if (ep.ports === undefined && (ep.vethHost === undefined || releasing)) return;
    await this.#setEndpoint(net.id, containerId, (e) => {
      const { vethHost: _v, ports: _p, ...rest } = e;
      return rest;
    });
    if (ep.ports) {
      for (const p of this.#proxies.get(containerId) ?? []) await p.close();
      this.#proxies.delete(containerId);
      await this.#syncRules();
    }
  }

  #syncRules(): Promise<void> {
    return this.#lock.run('rules', () =>
      syncRules(
        this.#chains,
        this.list().filter((n) => n.driver === 'bridge'),
      ),
    );
  }

  /** Changes (or with undefined, removes) one endpoint under the store's per-network lock. */
  async #setEndpoint(
    netId: string,
    containerId: string,
    f: (e: Endpoint) => Endpoint | undefined,
  ): Promise<void> {
    if (!this.#o.store.get(netId)?.endpoints[containerId]) return;
    await this.#o.store.update(netId, (cur) => {
      const e = cur.endpoints[containerId];
      if (!e) return cur;
      const { [containerId]: _old, ...rest } = cur.endpoints;
      const next = f(e);
      return { ...cur, endpoints: next ? { ...rest, [containerId]: next } : rest };
    });
  }

  netnsPath(containerId: string): string {
    return path.join(this.#o.netnsDir, containerId);
  }

  /**
   * Start: builds the container's netns and plugs every bridge endpoint; publishes ports on the
   * first one. All or nothing: a failure undoes what was done.
   */
  async attach(
    containerId: string,
    opts: {
      portBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | undefined;
      publishAll?: boolean;
      exposed?: Record<string, unknown> | undefined;
    },
  ): Promise<Attachment> {
    this.#detachedForRelease.delete(containerId); // it gets a new netns and veths
    const eps = this.endpointsOf(containerId);
    if (eps.some((e) => e.net.driver === 'host')) return { netns: 'host', hosts: [] };
    const bridges = eps.filter((e) => e.net.driver === 'bridge');
    const bindings = planBindings(opts.portBindings, Boolean(opts.publishAll), opts.exposed);
    if (bridges.length === 0) return { hosts: [] };
    const netns = this.netnsPath(containerId);
    try {
      for (const [i, { net, ep }] of bridges.entries())
        await this.#plug(containerId, net, ep, `eth${i}`, i === 0, i === 0);
      if (bindings.length > 0) {
        const first = bridges[0]!;
        const proxies = await startProxies(bindings, first.ep.ip);
        this.#proxies.set(containerId, proxies);
        await this.#setEndpoint(first.net.id, containerId, (e) => ({
          ...e,
          ports: proxies.map((p) => p.binding),
        }));
        await this.#syncRules();
      }
    } catch (err) {
      await this.detach(containerId);
      throw err;
    }
    const userNet = bridges.find((b) => !b.net.isDefault);
    return {
      netns,
      hosts: bridges.map((b) => b.ep.ip),
      ...(userNet ? { dns: userNet.net.gateway! } : {}),
    };
  }

  async #plug(
    containerId: string,
    net: NetworkRecord,
    ep: Endpoint,
    ifname: string,
    defaultRoute: boolean,
    newNetns = false,
  ): Promise<void> {
    const vethHost = `vb${randomBytes(5).toString('hex')}`;
    if (!(await span('net.bridge-check', () => linkExists(net.bridge!)))) await ensureBridge(net);
    const plan = {
      netns: this.netnsPath(containerId),
      vethHost,
      ifname,
      ip: ep.ip,
      mac: ep.mac,
      ...(ep.ip6 ? { ip6: ep.ip6 } : {}),
    };
    await span('net.netns-veth', () =>
      newNetns ? createNetnsWithEndpoint(net, plan, defaultRoute) : plugEndpoint(net, plan, defaultRoute),
    );
    crashPoint('plug:after-veth'); // start and connect: a veth the records do not know yet
    await span('net.endpoint-record', () =>
      this.#setEndpoint(net.id, containerId, (e) => ({ ...e, vethHost })),
    );
  }

  /**
   * Stop: unplugs every endpoint (addresses stay reserved) and drops the netns. `releasing`:
   * the caller releases the addresses right after (a --rm exit), so an endpoint record without
   * ports is not rewritten first (two fsyncs); a crash before the release leaves the container
   * record `running`, and recovery detaches it again.
   */
  async detach(containerId: string, opts: { releasing?: boolean } = {}): Promise<void> {
    await span('net.netns-remove', () => removeNetns(this.netnsPath(containerId)));
    if (opts.releasing) this.#detachedForRelease.add(containerId);
    for (const { net, ep } of this.endpointsOf(containerId))
      await span('net.unplug', () => this.#unplug(containerId, net, ep, true, opts.releasing === true));
  }

  /** `network connect`: reserve, and plug at once when the container runs. */
  async connect(
    ref: string,
    containerId: string,
    containerName: string,
    running: boolean,
    req: EndpointRequest,
  ): Promise<void> {
    const n = this.find(ref);
    const current = this.endpointsOf(containerId);
    if (n.driver !== 'bridge' || current.some((e) => e.net.driver !== 'bridge'))
      throw new InvalidArgumentError(
        'INVALID_CONNECT',
        `container ${containerName} cannot be connected to network ${n.name}: host, none and container network modes cannot be combined with other networks`,
      );
    const next = await this.allocate(n.id, containerId, containerName, req);
    crashPoint('connect:after-allocate');
    if (!running) return;
    const ifIndex = current.filter((e) => e.ep.vethHost).length;
    try {
      await this.#plug(containerId, next, next.endpoints[containerId]!, `eth${ifIndex}`, ifIndex === 0);
      crashPoint('connect:after-plug');
    } catch (err) {
      await this.release(containerId, n.id);
      throw err;
    }
  }

  async disconnect(ref: string, containerId: string, _containerName: string): Promise<void> {
    const n = this.find(ref);
    if (!n.endpoints[containerId])
      throw new NotFoundError(
        'NOT_CONNECTED',
        `container ${containerId} is not connected to network ${n.name}`,
      );
    await this.release(containerId, n.id);
  }

  /** Published ports of a running container (from its first bridge endpoint). */
  ports(containerId: string): PortBinding[] {
    return this.endpointsOf(containerId).flatMap((e) => e.ep.ports ?? []);
  }
}

class ForbiddenNetwork extends ForbiddenError {
  constructor(name: string) {
    super('PREDEFINED_NETWORK', `${name} is a pre-defined network and cannot be removed`);
  }
}
