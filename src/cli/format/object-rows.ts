// `docker volume ls` and `docker network ls` rows as docker's formatters print them
// (cli/command/formatter/volume.go, cli/command/network/formatter.go), and the natural name
// order both lists are sorted in (github.com/fvbommel/sortorder).
import { truncateId } from './container-row.ts';
import { humanSize } from './units.ts';

function joinLabels(labels: Readonly<Record<string, string>> | null | undefined): string {
  // docker ranges over a Go map (random order); sorted is one of its orders and stable.
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',');
}

/** sortorder.NaturalLess: runs of digits compare by value and sort first, the rest byte by byte. */
export function naturalLess(a: string, b: string): boolean {
  const chunk = /(\d+|\D+)/g;
  const xs = a.match(chunk) ?? [];
  const ys = b.match(chunk) ?? [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+/, '');
      const ny = y.replace(/^0+/, '');
      if (nx.length !== ny.length) return nx.length < ny.length;
      if (nx !== ny) return nx < ny;
      return x.length < y.length; // "2" before "02": fewer leading zeros first
    }
    if (dx !== dy) return dx; // digits sort before every other character
    return x < y;
  }
  return xs.length < ys.length;
}

export function naturalCompare(a: string, b: string): number {
  return naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0;
}

export interface VolumeListItem {
  readonly Name: string;
  readonly Driver: string;
  readonly Scope: string;
  readonly Mountpoint: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly UsageData?: { readonly Size: number; readonly RefCount: number } | null;
}

export const VOLUME_TABLE_FORMAT = 'table {{.Driver}}\t{{.Name}}';
export const VOLUME_HEADERS: Readonly<Record<string, string>> = {
  ID: 'ID',
  Name: 'VOLUME NAME',
  Group: 'GROUP',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Status: 'STATUS',
};

export class VolumeRow {
  readonly #v: VolumeListItem;
  constructor(v: VolumeListItem) {
    this.#v = v;
  }
  get Name(): string {
    return this.#v.Name;
  }
  get Driver(): string {
    return this.#v.Driver;
  }
  get Scope(): string {
    return this.#v.Scope;
  }
  get Mountpoint(): string {
    return this.#v.Mountpoint;
  }
  get Labels(): string {
    return joinLabels(this.#v.Labels);
  }
  Label(name: string): string {
    return this.#v.Labels?.[name] ?? '';
  }
  get Links(): string {
    return this.#v.UsageData ? String(this.#v.UsageData.RefCount) : 'N/A';
  }
  get Size(): string {
    return this.#v.UsageData ? humanSize(this.#v.UsageData.Size, 4) : 'N/A';
  }
  // Cluster (swarm CSI) volume fields: Berth has no cluster volumes, so docker's "N/A".
  get Group(): string {
    return 'N/A';
  }
  get Availability(): string {
    return 'N/A';
  }
  get Status(): string {
    return 'N/A';
  }
}

export interface NetworkListItem {
  readonly Id: string;
  readonly Name: string;
  readonly Driver: string;
  readonly Scope: string;
  readonly Created?: string;
  readonly EnableIPv4?: boolean;
  readonly EnableIPv6?: boolean;
  readonly Internal?: boolean;
  readonly Labels?: Readonly<Record<string, string>> | null;
}

export const NETWORK_TABLE_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
export const NETWORK_HEADERS: Readonly<Record<string, string>> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv4: 'IPV4',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

/**
 * Go's time.Time String() of a time decoded from the API's RFC 3339 text: the zone it was
 * written in is kept ("+0000 UTC" for Z), the fraction printed without trailing zeros.
 */
export function goParsedTimeString(rfc3339: string | undefined): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(rfc3339 ?? '');
  if (!m) return '0001-01-01 00:00:00 +0000 UTC';
  const frac = (m[3] ?? '').slice(0, 9).replace(/0+$/, '');
  const off = m[4] === 'Z' ? '+0000' : m[4]!.replace(':', '');
  const zone = m[4] === 'Z' ? 'UTC' : off;
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} ${off} ${zone}`;
}

export class NetworkRow {
  readonly #n: NetworkListItem;
  readonly #trunc: boolean;
  constructor(n: NetworkListItem, trunc: boolean) {
    this.#n = n;
    this.#trunc = trunc;
  }
  get ID(): string {
    return this.#trunc ? truncateId(this.#n.Id) : this.#n.Id;
  }
  get Name(): string {
    return this.#n.Name;
  }
  get Driver(): string {
    return this.#n.Driver;
  }
  get Scope(): string {
    return this.#n.Scope;
  }
  get IPv4(): string {
    return String(Boolean(this.#n.EnableIPv4));
  }
  get IPv6(): string {
    return String(Boolean(this.#n.EnableIPv6));
  }
  get Internal(): string {
    return String(Boolean(this.#n.Internal));
  }
  get Labels(): string {
    return joinLabels(this.#n.Labels);
  }
  Label(name: string): string {
    return this.#n.Labels?.[name] ?? '';
  }
  get CreatedAt(): string {
    return goParsedTimeString(this.#n.Created);
  }
}

/** NewVolumeFormat / network NewFormat: -q replaces only the default table; a custom format wins. */
export function listFormat(
  format: string | undefined,
  quiet: boolean,
  table: string,
  quietFormat: string,
): string {
  const f = format === undefined || format === '' ? 'table' : format;
  if (f !== 'table') return f;
  return quiet ? quietFormat : table;
}
