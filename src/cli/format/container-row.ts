// One `docker ps` row as docker's formatter sees it (cli/command/formatter/container.go): every
// field is a getter, so templates, `json` and the table header all see the same names, and
// `Label` is a method taking the label's name (`{{.Label "tier"}}`), which `json` leaves out as
// Go's reflection-based marshalling of the context does.
import { displayWidth } from './table.ts';
import { goTimeString } from './go-time.ts';
import { humanDuration, humanSize } from './units.ts';

/** The fields of GET /containers/json that the row reads. */
export interface ContainerSummary {
  readonly Id: string;
  readonly Names?: readonly string[] | null;
  readonly Image?: string;
  readonly ImageID?: string;
  readonly Command?: string;
  readonly Created: number;
  readonly State?: string;
  readonly Status?: string;
  readonly Ports?: readonly PortSummary[] | null;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly SizeRw?: number;
  readonly SizeRootFs?: number;
  readonly Mounts?: readonly { Name?: string; Source?: string; Driver?: string }[] | null;
  readonly NetworkSettings?: { Networks?: Readonly<Record<string, unknown>> | null } | null;
}

export interface PortSummary {
  readonly IP?: string;
  readonly PrivatePort: number;
  readonly PublicPort?: number;
  readonly Type: string;
}

export const CONTAINER_TABLE_FORMAT =
  'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export const CONTAINER_HEADERS: Readonly<Record<string, string>> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
};

/** docker's TruncateID: the hex without `sha256:`, 12 characters. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12);
}

/** docker's formatter.Ellipsis: at most `max` terminal cells, the last one `…` when cut. */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  if (displayWidth(s) <= max) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = displayWidth(ch);
    if (w + cw > max - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

export class ContainerRow {
  readonly #c: ContainerSummary;
  readonly #trunc: boolean;
  readonly #now: number;

  constructor(c: ContainerSummary, opts: { trunc: boolean; now?: number }) {
    this.#c = c;
    this.#trunc = opts.trunc;
    this.#now = opts.now ?? Date.now();
  }

  get ID(): string {
    return this.#trunc ? truncateId(this.#c.Id) : this.#c.Id;
  }

  get Names(): string {
    const names = (this.#c.Names ?? []).map((n) => n.replace(/^\//, ''));
    // Truncated, docker prints one name: the first that is not a legacy link ("/other/alias").
    if (this.#trunc) return names.find((n) => !n.includes('/')) ?? '';
    return names.join(',');
  }

  get Image(): string {
    const image = this.#c.Image ?? '';
    if (image === '') return '<no image>';
    if (!this.#trunc) return image;
    if (this.#c.ImageID && truncateId(this.#c.ImageID) === truncateId(image)) return truncateId(image);
    // A reference pinned by digest prints without it (keeping any tag), as docker does.
    const at = image.indexOf('@');
    const named = at >= 0 ? image.slice(0, at) : image;
    // reference.FamiliarString: docker.io and its library/ namespace are left out.
    return named.replace(/^docker\.io\/library\/(?=[^/]+$)/, '').replace(/^docker\.io\//, '');
  }

  get Command(): string {
    const cmd = this.#c.Command ?? '';
    return JSON.stringify(this.#trunc ? ellipsis(cmd, 20) : cmd);
  }

  get CreatedAt(): string {
    return goTimeString(this.#c.Created);
  }

  get RunningFor(): string {
    return `${humanDuration(this.#now - this.#c.Created * 1000)} ago`;
  }

  get Ports(): string {
    return displayablePorts(this.#c.Ports ?? []);
  }

  get State(): string {
    return this.#c.State ?? '';
  }

  get Status(): string {
    return this.#c.Status ?? '';
  }

  get Size(): string {
    const rw = humanSize(this.#c.SizeRw ?? 0);
    const root = this.#c.SizeRootFs ?? 0;
    return root > 0 ? `${rw} (virtual ${humanSize(root)})` : rw;
  }

  get Labels(): string {
    return Object.entries(this.#c.Labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(',');
  }

  /** `{{.Label "name"}}`: the label's value, or "" when it is not set. */
  Label(name: string): string {
    return this.#c.Labels?.[name] ?? '';
  }

  get Mounts(): string {
    return (this.#c.Mounts ?? [])
      .map((m) => {
        const name = m.Name ? m.Name : (m.Source ?? '');
        return this.#trunc ? ellipsis(name, 15) : name;
      })
      .join(',');
  }

  get LocalVolumes(): string {
    return String((this.#c.Mounts ?? []).filter((m) => m.Driver === 'local').length);
  }

  get Networks(): string {
    // docker ranges over a Go map (random order); sorted is one of its orders and stable.
    return Object.keys(this.#c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(',');
  }
}

/**
 * docker's DisplayablePorts: sorted by private port, IP, public port, protocol; contiguous
 * ports with the same IP and protocol grouped into ranges (`0.0.0.0:8080-8081->8080-8081/tcp`);
 * a host port differing from the container port printed on its own after the groups.
 */
export function displayablePorts(input: readonly PortSummary[]): string {
  const ports = [...input].sort(comparePorts);
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const p of ports) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if (p.PublicPort !== current) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (g === undefined) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    // docker replaces the group but keeps the key's first position in its order list.
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

function formGroup(key: string, first: number, last: number): string {
  const slash = key.lastIndexOf('/');
  const ip = slash >= 0 ? key.slice(0, slash) : '';
  const proto = slash >= 0 ? key.slice(slash + 1) : key;
  let group = first === last ? String(first) : `${first}-${last}`;
  if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${proto}`;
}

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function comparePorts(a: PortSummary, b: PortSummary): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  if ((a.IP ?? '') !== (b.IP ?? '')) return compareIp(a.IP ?? '', b.IP ?? '');
  if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}

// netip.Addr.Less: the invalid address first, IPv4 before IPv6, then by bytes.
function compareIp(a: string, b: string): number {
  const rank = (s: string) => (s === '' ? 0 : s.includes(':') ? 2 : 1);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (rank(a) === 1) {
    const x = a.split('.').map(Number);
    const y = b.split('.').map(Number);
    for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
