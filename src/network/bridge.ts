// The bridge driver: a Linux bridge per network, a veth pair per endpoint with the container
// end inside a network namespace Berth creates (a bind-mounted nsfs file under the exec root),
// and NAT/forwarding rules in Berth's own iptables chains, tagged per daemon so several daemons
// (and Docker) coexist: Berth only ever touches chains whose names carry its tag.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { cmd, tryCmd } from './command.ts';
import { parseCidr } from './ipam.ts';
import type { NetworkRecord } from './store.ts';

export interface Chains {
  /** nat POSTROUTING: MASQUERADE. */
  readonly nat: string;
  /** filter FORWARD: what may cross the bridges. */
  readonly filter: string;
  /** nat PREROUTING and OUTPUT (local destinations): published ports. */
  readonly dnat: string;
}

/** Chain names for a daemon tag (kept under iptables' 28-character limit). */
export function chainsFor(tag: string): Chains {
  return { nat: `BERTH-PO-${tag}`, filter: `BERTH-FW-${tag}`, dnat: `BERTH-DN-${tag}` };
}

/** Every jump Berth adds into a built-in chain: [table, parent, match args, chain]. */
function jumps(c: Chains): [string, string, string[], string][] {
  const local = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
  return [
    ['nat', 'POSTROUTING', [], c.nat],
    ['filter', 'FORWARD', [], c.filter],
    ['nat', 'PREROUTING', local, c.dnat],
    ['nat', 'OUTPUT', local, c.dnat],
  ];
}

const IPT = ['-w', '5'];

async function ensureChain(table: string, chain: string, parent: string, match: string[]): Promise<void> {
  await tryCmd('iptables', [...IPT, '-t', table, '-N', chain]);
  if (!(await tryCmd('iptables', [...IPT, '-t', table, '-C', parent, ...match, '-j', chain])))
    await cmd('iptables', [...IPT, '-t', table, '-I', parent, ...match, '-j', chain]);
}

/** Rules of one network, as iptables argument lists (without table and -A chain). */
function networkRules(n: NetworkRecord): { nat: string[][]; filter: string[][]; dnat: string[][] } {
  const br = n.bridge!;
  const sub = n.subnet!;
  // Published ports: DNAT to the container for connections to this host's addresses, from
  // outside and from the host itself (loopback too: route_localnet on the bridge plus the
  // MASQUERADE of 127.0.0.0/8 below). Rules live in the kernel, so ports keep working while
  // berthd is down.
  const dnat: string[][] = [];
  for (const ep of Object.values(n.endpoints)) {
    if (!ep.vethHost) continue;
    for (const p of ep.ports ?? []) {
      const dst = p.hostIp && p.hostIp !== '0.0.0.0' ? ['-d', `${p.hostIp}/32`] : [];
      dnat.push([
        ...dst,
        '-p',
        p.proto,
        '-m',
        p.proto,
        '--dport',
        String(p.hostPort),
        '-j',
        'DNAT',
        '--to-destination',
        `${ep.ip}:${p.containerPort}`,
      ]);
    }
  }
  if (n.internal) {
    return {
      dnat: [],
      nat: [],
      filter: [
        ['-i', br, '!', '-o', br, '-j', 'DROP'],
        ['!', '-i', br, '-o', br, '-j', 'DROP'],
        ['-i', br, '-o', br, '-j', 'ACCEPT'],
      ],
    };
  }
  return {
    dnat,
    nat: [
      ['-s', sub, '!', '-o', br, '-j', 'MASQUERADE'],
      ['-s', '127.0.0.0/8', '-o', br, '-j', 'MASQUERADE'],
    ],
    filter: [
      ['-i', br, '-o', br, '-j', 'ACCEPT'],
      ['-i', br, '!', '-o', br, '-j', 'ACCEPT'],
      ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
    ],
  };
}

/**
 * Rewrites this daemon's chains from the list of bridge networks (flush + re-add): the rules are
 * derived from the records, so there is nothing to reconcile rule by rule.
 */
export async function syncRules(chains: Chains, nets: readonly NetworkRecord[]): Promise<void> {
  for (const [table, parent, match, chain] of jumps(chains)) await ensureChain(table, chain, parent, match);
  const lines = ['*nat', `-F ${chains.nat}`, `-F ${chains.dnat}`];
  for (const n of nets) for (const r of networkRules(n).nat) lines.push(`-A ${chains.nat} ${r.join(' ')}`);
  for (const n of nets) for (const r of networkRules(n).dnat) lines.push(`-A ${chains.dnat} ${r.join(' ')}`);
  lines.push('COMMIT', '*filter', `-F ${chains.filter}`);
  for (const n of nets)
    for (const r of networkRules(n).filter) lines.push(`-A ${chains.filter} ${r.join(' ')}`);
  lines.push('COMMIT', '');
  await cmd('iptables-restore', ['-w', '5', '--noflush'], lines.join('\n'));
}

/** Removes this daemon's chains and the jumps to them; nothing else. */
export async function removeRules(chains: Chains): Promise<void> {
  for (const [table, parent, match, chain] of jumps(chains)) {
    for (let i = 0; i < 10; i++) {
      if (!(await tryCmd('iptables', [...IPT, '-t', table, '-D', parent, ...match, '-j', chain]))) break;
    }
  }
  for (const [table, , , chain] of jumps(chains)) {
    await tryCmd('iptables', [...IPT, '-t', table, '-F', chain]);
    await tryCmd('iptables', [...IPT, '-t', table, '-X', chain]);
  }
}

export async function linkExists(name: string): Promise<boolean> {
  return fsp.access(`/sys/class/net/${name}`).then(
    () => true,
    () => false,
  );
}

/** Creates the bridge with the gateway address (idempotent). */
export async function ensureBridge(n: NetworkRecord): Promise<void> {
  const br = n.bridge!;
  const bits = parseCidr(n.subnet!).bits;
  if (!(await linkExists(br))) {
    await cmd('ip', ['link', 'add', br, 'type', 'bridge']);
  }
  const batch = [
    ...(n.mtu ? [`link set ${br} mtu ${n.mtu}`] : []),
    `addr replace ${n.gateway}/${bits} dev ${br}`,
    // nodad: the address is ours alone and must answer at once, not after duplicate detection.
    ...(n.enableIPv6 && n.gateway6
      ? [`addr replace ${n.gateway6}/${n.subnet6!.split('/')[1]} dev ${br} nodad`]
      : []),
    `link set ${br} up`,
  ];
  if (n.enableIPv6) await fsp.writeFile(`/proc/sys/net/ipv6/conf/${br}/disable_ipv6`, '0').catch(() => {});
  await cmd('ip', ['-batch', '-'], `${batch.join('\n')}\n`);
  if (!n.internal) {
    // Outbound NAT needs forwarding, as with Docker; published ports on loopback need
    // route_localnet on the bridge (127.0.0.1 → DNAT → the container).
    await fsp.writeFile('/proc/sys/net/ipv4/ip_forward', '1').catch(() => {});
    await fsp.writeFile(`/proc/sys/net/ipv4/conf/${br}/route_localnet`, '1').catch(() => {});
  }
}

export async function deleteBridge(name: string): Promise<void> {
  await tryCmd('ip', ['link', 'del', name]);
}

/** Host-side veth names of a bridge's ports. */
export async function bridgePorts(br: string): Promise<string[]> {
  return fsp.readdir(`/sys/class/net/${br}/brif`).catch(() => [] as string[]);
}

export async function removeNetns(file: string): Promise<void> {
  // No file, no netns (`--network none`, or already removed): skip the `umount` spawn (~5 ms).
  if (!(await fsp.lstat(file).catch(() => undefined))) return;
  await tryCmd('umount', ['-l', file]);
  await fsp.rm(file, { force: true });
}

export interface EndpointPlan {
  readonly netns: string;
  readonly vethHost: string;
  readonly ifname: string;
  readonly ip: string;
  readonly mac: string;
  readonly ip6?: string;
}

/** `ip -batch` lines giving the container end its IPv6 address (and route), on v6 networks. */
function v6Lines(n: NetworkRecord, ep: EndpointPlan, defaultRoute: boolean): string[] {
  if (!ep.ip6 || !n.subnet6) return [];
  return [
    `addr add ${ep.ip6}/${n.subnet6.split('/')[1]} dev ${ep.ifname} nodad`,
    ...(defaultRoute && !n.internal ? [`route replace ::/0 via ${n.gateway6} dev ${ep.ifname}`] : []),
  ];
}

/** veth pair: host end on the bridge, container end (`ifname`) configured inside the netns. */
export async function plugEndpoint(n: NetworkRecord, ep: EndpointPlan, defaultRoute: boolean): Promise<void> {
  const mtu = n.mtu ? ` mtu ${n.mtu}` : '';
  await cmd(
    'ip',
    ['-batch', '-'],
    [
      `link add ${ep.vethHost}${mtu} type veth peer name ${ep.ifname} address ${ep.mac} netns ${ep.netns}`,
      `link set ${ep.vethHost} master ${n.bridge} up`,
      '',
    ].join('\n'),
  );
  const bits = parseCidr(n.subnet!).bits;
  const inner = [`addr add ${ep.ip}/${bits} dev ${ep.ifname}`, `link set ${ep.ifname} up`, 'link set lo up'];
  if (defaultRoute && !n.internal) inner.push(`route replace default via ${n.gateway} dev ${ep.ifname}`);
  inner.push(...v6Lines(n, ep, defaultRoute));
  try {
    await cmd('nsenter', [`--net=${ep.netns}`, 'ip', '-batch', '-'], `${inner.join('\n')}\n`);
  } catch (err) {
    await tryCmd('ip', ['link', 'del', ep.vethHost]);
    throw err;
  }
}

/**
 * A new netns with its first endpoint in two spawns (the start path's cost): `unshare` creates
 * the netns and runs one `ip -batch` inside it that makes the veth pair, sends the host end to
 * berthd's netns and configures the container end; then the host end joins the bridge.
 */
export async function createNetnsWithEndpoint(
  n: NetworkRecord,
  ep: EndpointPlan,
  defaultRoute: boolean,
): Promise<void> {
  await fsp.mkdir(path.dirname(ep.netns), { recursive: true, mode: 0o700 });
  await fsp.writeFile(ep.netns, '', { mode: 0o600 });
  const mtu = n.mtu ? ` mtu ${n.mtu}` : '';
  const bits = parseCidr(n.subnet!).bits;
  const inner = [
    `link add ${ep.ifname}${mtu} address ${ep.mac} type veth peer name ${ep.vethHost} netns /proc/${process.pid}/ns/net`,
    `addr add ${ep.ip}/${bits} dev ${ep.ifname}`,
    `link set ${ep.ifname} up`,
    'link set lo up',
    ...(defaultRoute && !n.internal ? [`route replace default via ${n.gateway} dev ${ep.ifname}`] : []),
    ...v6Lines(n, ep, defaultRoute),
  ];
  await cmd('unshare', [`--net=${ep.netns}`, 'ip', '-batch', '-'], `${inner.join('\n')}\n`);
  await cmd('ip', ['link', 'set', ep.vethHost, 'master', n.bridge!, 'up']);
}

export async function unplugEndpoint(vethHost: string): Promise<void> {
  await tryCmd('ip', ['link', 'del', vethHost]);
}
