// Legacy links (`--link name:alias`, HostConfig.Links): how an entry names its target and
// alias, and the environment Docker gives the linking container for each link
// (`ALIAS_NAME`, `ALIAS_PORT_80_TCP_ADDR`, `ALIAS_ENV_FOO`, ...), which old images read to
// find their database. Pure: networking.ts resolves the target and its address.

/** One HostConfig.Links entry: `name:alias` from clients, `/name:/parent/alias` as Docker stores it. */
export function parseLink(entry: string): { name: string; alias: string } {
  const colon = entry.indexOf(':');
  const name = (colon === -1 ? entry : entry.slice(0, colon)).replace(/^\//, '');
  const rawAlias = colon === -1 ? name : entry.slice(colon + 1);
  return { name, alias: rawAlias.split('/').pop() || name };
}

/**
 * HostConfig.Links as Docker's inspect shows them: rebuilt from the legacy link graph as
 * `/name:/parent/alias`, which exists on the default bridge only. On a user-defined network
 * (where a link is a DNS alias in the endpoint's Links) and without links it is null.
 */
export function inspectLinks(
  links: readonly string[] | null | undefined,
  parentName: string,
  networkMode: string,
): string[] | null {
  if (!links || links.length === 0 || !['default', 'bridge', ''].includes(networkMode)) return null;
  return links.map((l) => {
    const { name, alias } = parseLink(l);
    return `/${name}:/${parentName}/${alias}`;
  });
}

interface Port {
  readonly port: number;
  readonly proto: string;
}

function exposedPorts(exposed: Record<string, unknown> | undefined): Port[] {
  const out: Port[] = [];
  for (const k of Object.keys(exposed ?? {})) {
    const [p, proto = 'tcp'] = k.split('/');
    const port = Number(p);
    if (Number.isInteger(port) && port > 0 && port < 65536) out.push({ port, proto: proto.toLowerCase() });
  }
  // By number, tcp before other protocols on the same number: the first is the link's default port.
  return out.sort((a, b) => a.port - b.port || (a.proto === 'tcp' ? -1 : b.proto === 'tcp' ? 1 : 0));
}

export interface LinkTarget {
  /** The linking container's name, without the leading slash. */
  readonly parentName: string;
  readonly alias: string;
  /** The target's address on the network the link goes over. */
  readonly ip: string;
  readonly exposed?: Record<string, unknown>;
  /** The target's Config.Env. */
  readonly env?: readonly string[];
}

/** The variables a link adds to the linking container's environment, in Docker's order. */
export function linkEnv(t: LinkTarget): string[] {
  const prefix = t.alias.toUpperCase().replace(/-/g, '_');
  const ports = exposedPorts(t.exposed);
  const env: string[] = [];
  const first = ports[0];
  if (first) env.push(`${prefix}_PORT=${first.proto}://${t.ip}:${first.port}`);
  // A run of consecutive ports of one protocol is also announced as a range.
  for (let i = 0; i < ports.length; ) {
    let j = i;
    while (
      j + 1 < ports.length &&
      ports[j + 1]!.proto === ports[i]!.proto &&
      ports[j + 1]!.port === ports[j]!.port + 1
    )
      j++;
    if (j > i) {
      const a = ports[i]!;
      const b = ports[j]!;
      const key = `${prefix}_PORT_${a.port}_${a.proto.toUpperCase()}`;
      env.push(`${key}_START=${a.proto}://${t.ip}:${a.port}`);
      env.push(`${key}_PORT_START=${a.port}`);
      env.push(`${key}_PORT_END=${b.port}`);
      env.push(`${key}_END=${b.proto}://${t.ip}:${b.port}`);
    }
    i = j + 1;
  }
  for (const p of ports) {
    const key = `${prefix}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    env.push(`${key}=${p.proto}://${t.ip}:${p.port}`);
    env.push(`${key}_ADDR=${t.ip}`);
    env.push(`${key}_PORT=${p.port}`);
    env.push(`${key}_PROTO=${p.proto}`);
  }
  env.push(`${prefix}_NAME=/${t.parentName}/${t.alias}`);
  for (const e of t.env ?? []) {
    const eq = e.indexOf('=');
    if (eq <= 0) continue;
    const key = e.slice(0, eq);
    // Build-time noise, not the target's configuration (Docker leaves these two out too).
    if (key === 'HOME' || key === 'PATH') continue;
    env.push(`${prefix}_ENV_${key}=${e.slice(eq + 1)}`);
  }
  return env;
}
