// Durable network records: network/<id>.json, one file per network holding its IPAM
// allocations (the endpoints), written atomically and all kept in memory.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteJson, readJsonIfExists, removeTempFiles } from '../base/atomic.ts';
import { KeyedMutex } from '../base/lock.ts';
import { InvalidArgumentError, NotFoundError } from '../errdefs/index.ts';

export type Driver = 'bridge' | 'host' | 'null';

export interface PortBinding {
  readonly containerPort: number;
  readonly proto: 'tcp' | 'udp';
  readonly hostIp: string;
  readonly hostPort: number;
}

/** What the client asked for at create or connect, echoed by inspect as Docker does. */
export interface EndpointConfig {
  readonly IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] };
  readonly Links?: string[];
  readonly DriverOpts?: Record<string, string>;
  readonly MacAddress?: string;
}

export interface Endpoint {
  readonly containerId: string;
  readonly containerName: string;
  readonly endpointId: string;
  readonly ip: string;
  readonly mac: string;
  readonly aliases: string[];
  /** The address was asked for (`--ip`) rather than picked. */
  readonly staticIp: boolean;
  /** IPv6 address, on networks with IPv6 enabled. */
  readonly ip6?: string;
  /** The requested settings (absent on records written before they were kept). */
  readonly config?: EndpointConfig;
  /** Host-side veth, while the container runs. */
  readonly vethHost?: string;
  /** Published ports, while the container runs (kept so a restarted berthd serves them again). */
  readonly ports?: PortBinding[];
}

export interface NetworkRecord {
  readonly id: string;
  readonly name: string;
  readonly driver: Driver;
  readonly created: string;
  readonly internal: boolean;
  readonly attachable: boolean;
  readonly labels: Record<string, string>;
  readonly options: Record<string, string>;
  /** IPAM.Options as sent (absent: not sent); the default IPAM driver uses none, Docker shows them. */
  readonly ipamOptions?: Record<string, string>;
  /** Bridge networks only. */
  readonly bridge?: string;
  readonly subnet?: string;
  readonly gateway?: string;
  readonly ipRange?: string;
  readonly auxAddresses?: Record<string, string>;
  readonly mtu?: number;
  /** IPv6 (`--ipv6`): the v6 subnet and gateway; without enableIPv6 a v6 subnet is kept only. */
  readonly enableIPv6?: boolean;
  readonly subnet6?: string;
  readonly gateway6?: string;
  readonly ipRange6?: string;
  /** The default `bridge` network: no embedded DNS, `--link` through /etc/hosts. */
  readonly isDefault?: boolean;
  /** Last address handed out (so a freed address is not reused at once). */
  readonly lastIp?: string;
  readonly endpoints: Record<string, Endpoint>;
}

export class NetworkStore {
  readonly root: string;
  readonly #byId = new Map<string, NetworkRecord>();
  readonly #lock = new KeyedMutex();

  private constructor(root: string) {
    this.root = root;
  }

  static async open(root: string): Promise<NetworkStore> {
    const s = new NetworkStore(root);
    await fsp.mkdir(root, { recursive: true, mode: 0o700 });
    await removeTempFiles(root);
    for (const f of await fsp.readdir(root)) {
      if (!/^[a-f0-9]{64}\.json$/.test(f)) continue;
      const rec = (await readJsonIfExists(path.join(root, f))) as NetworkRecord | undefined;
      if (rec) s.#byId.set(rec.id, rec);
    }
    return s;
  }

  all(): NetworkRecord[] {
    return [...this.#byId.values()].sort((a, b) => a.created.localeCompare(b.created));
  }

  get(id: string): NetworkRecord | undefined {
    return this.#byId.get(id);
  }

  byName(name: string): NetworkRecord | undefined {
    return this.all().find((n) => n.name === name);
  }

  /** Docker's lookup order: full ID, exact name, then a unique ID prefix. */
  find(ref: string): NetworkRecord {
    if (ref === '') throw new InvalidArgumentError('INVALID_NETWORK', 'network name or ID must not be empty');
    const byId = this.#byId.get(ref);
    if (byId) return byId;
    const byName = this.byName(ref);
    if (byName) return byName;
    const matches = this.all().filter((n) => n.id.startsWith(ref));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1)
      throw new InvalidArgumentError(
        'AMBIGUOUS_NETWORK',
        `network ${ref} is ambiguous (${matches.length} matches found)`,
      );
    throw new NotFoundError('NETWORK_NOT_FOUND', `network ${ref} not found`);
  }

  async put(rec: NetworkRecord): Promise<void> {
    await atomicWriteJson(path.join(this.root, `${rec.id}.json`), rec);
    this.#byId.set(rec.id, rec);
  }

  /**
   * Read-modify-write of one record, serialised per network: concurrent starts and creates
   * never lose each other's endpoints or get the same address. `fn` may throw to refuse.
   */
  async update(id: string, fn: (cur: NetworkRecord) => NetworkRecord): Promise<NetworkRecord> {
    return this.#lock.run(id, async () => {
      const cur = this.#byId.get(id);
      if (!cur) throw new NotFoundError('NETWORK_NOT_FOUND', `network ${id} not found`);
      const next = fn(cur);
      if (next !== cur) await this.put(next);
      return next;
    });
  }

  async delete(id: string): Promise<void> {
    await fsp.rm(path.join(this.root, `${id}.json`), { force: true });
    this.#byId.delete(id);
  }
}
