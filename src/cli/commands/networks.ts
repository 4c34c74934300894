// Network commands (network create/ls/inspect/rm/prune/connect/disconnect, port) and the
// networking flags of run/create (--network, --ip, -p, -P, --dns, ...).
import { effectiveFormat } from '../config-formats.ts';
import type { Command } from 'commander';
import { EngineError } from '../../client/index.ts';
import { CliError, type CliContext, collect, filtersJson } from '../context.ts';
import {
  listFormat,
  NETWORK_HEADERS,
  NETWORK_TABLE_FORMAT,
  NetworkRow,
  naturalCompare,
  renderInspect,
  renderList,
} from '../format/index.ts';
import { addUnsupported } from './unsupported.ts';

export interface NetworkRunOptions {
  network?: string;
  ip?: string;
  ip6?: string;
  linkLocalIp: string[];
  networkAlias: string[];
  macAddress?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  publish: string[];
  publishAll?: boolean;
  expose: string[];
  link: string[];
}

export function addNetworkRunOptions(c: Command): Command {
  return c
    .option(
      '--network <string>',
      'Connect a container to a network (bridge, host, none, container:NAME, or a network name)',
    )
    .option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--ip6 <string>', 'IPv6 address (e.g., 2001:db8::33)')
    .option('--link-local-ip <list>', 'Container IPv4/IPv6 link-local addresses', collect, [])
    .option('--network-alias <list>', 'Add network-scoped alias for the container', collect, [])
    .option('--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
    .option('--dns <list>', 'Set custom DNS servers', collect, [])
    .option('--dns-search <list>', 'Set custom DNS search domains', collect, [])
    .option('--dns-option <list>', 'Set DNS options', collect, [])
    .option('-p, --publish <list>', "Publish a container's port(s) to the host", collect, [])
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--expose <list>', 'Expose a port or a range of ports', collect, [])
    .option('--link <list>', 'Add link to another container', collect, []);
}

function range(s: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  const a = m ? Number(m[1]) : NaN;
  const b = m?.[2] ? Number(m[2]) : a;
  if (!m || a < 0 || b > 65535 || b < a) throw new CliError(`invalid ${what} "${s}"`, 125);
  return [a, b];
}

/** `-p [ip:][hostPort[-end]:]containerPort[-end][/proto]` → ExposedPorts and PortBindings. */
export function parsePublish(specs: readonly string[]): {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, { HostIp: string; HostPort: string }[]>;
} {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const spec of specs) {
    const [rest, proto = 'tcp'] = spec.split('/');
    if (!['tcp', 'udp'].includes(proto)) throw new CliError(`invalid proto "${proto}" in "${spec}"`, 125);
    const parts = rest!.split(':');
    if (parts.length > 3)
      throw new CliError(`invalid publish spec "${spec}": use [ip:][hostPort:]containerPort[/proto]`, 125);
    const [ip, host, ctr] =
      parts.length === 3 ? parts : parts.length === 2 ? ['', parts[0]!, parts[1]!] : ['', '', parts[0]!];
    const [c0, c1] = range(ctr!, `container port in "${spec}"`);
    const [h0, h1] = host ? range(host, `host port in "${spec}"`) : [0, 0];
    if (host && h1 - h0 !== c1 - c0 && h1 !== h0)
      throw new CliError(
        `invalid ranges in "${spec}": host and container ranges must be the same length`,
        125,
      );
    for (let p = c0; p <= c1; p++) {
      const key = `${p}/${proto}`;
      exposed[key] = {};
      const hp = !host ? '' : h1 === h0 ? String(h0) : String(h0 + (p - c0));
      bindings[key] = [...(bindings[key] ?? []), { HostIp: ip!, HostPort: hp }];
    }
  }
  return { exposed, bindings };
}

/** EndpointConfig.IPAMConfig of --ip, --ip6 and --link-local-ip (absent when none is given). */
function ipamConfig(ip: string | undefined, ip6: string | undefined, linkLocal: readonly string[]) {
  if (!ip && !ip6 && linkLocal.length === 0) return {};
  return {
    IPAMConfig: {
      ...(ip ? { IPv4Address: ip } : {}),
      ...(ip6 ? { IPv6Address: ip6 } : {}),
      ...(linkLocal.length > 0 ? { LinkLocalIPs: [...linkLocal] } : {}),
    },
  };
}

/** The create-body fields of the networking flags. */
export function networkBody(o: NetworkRunOptions) {
  const { exposed, bindings } = parsePublish(o.publish);
  for (const e of o.expose) {
    const [p, proto = 'tcp'] = e.split('/');
    const [a, b] = range(p!, `port "${e}" in --expose`);
    for (let x = a; x <= b; x++) exposed[`${x}/${proto}`] = {};
  }
  const mode = o.network ?? 'default';
  // The MAC address is the endpoint's (API 1.44+, as docker CLI 28 sends it); the container-wide
  // Config.MacAddress is deprecated and draws a warning.
  const endpoint = {
    ...ipamConfig(o.ip, o.ip6, o.linkLocalIp),
    ...(o.networkAlias.length > 0 ? { Aliases: o.networkAlias } : {}),
    ...(o.macAddress ? { MacAddress: o.macAddress } : {}),
  };
  return {
    config: {
      ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    },
    hostConfig: {
      NetworkMode: mode,
      ...(Object.keys(bindings).length > 0 ? { PortBindings: bindings } : {}),
      ...(o.publishAll ? { PublishAllPorts: true } : {}),
      ...(o.dns.length > 0 ? { Dns: o.dns } : {}),
      ...(o.dnsSearch.length > 0 ? { DnsSearch: o.dnsSearch } : {}),
      ...(o.dnsOption.length > 0 ? { DnsOptions: o.dnsOption } : {}),
      ...(o.link.length > 0 ? { Links: o.link } : {}),
    },
    networkingConfig:
      Object.keys(endpoint).length > 0 ? { EndpointsConfig: { [mode]: endpoint } } : undefined,
  };
}

interface NetworkJson {
  Name: string;
  Id: string;
  Created: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
  Labels: Record<string, string>;
}

function kv(list: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    if (what === 'label' && i === -1) out[l] = '';
    else if (i <= 0) throw new CliError(`invalid ${what} "${l}": use KEY=VALUE`, 125);
    else out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

export function registerNetworks(program: Command, ctx: CliContext): void {
  const network = program.command('network').description('Manage networks');
  const create = network
    .command('create')
    .description('Create a network')
    .argument('<NETWORK>')
    .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
    .option('--subnet <string>', 'Subnet in CIDR format that represents a network segment')
    .option('--gateway <string>', 'IPv4 Gateway for the master subnet')
    .option('--ip-range <string>', 'Allocate container ip from a sub-range')
    .option('--aux-address <list>', 'Auxiliary IPv4 addresses used by Network driver', collect, [])
    .option('--internal', 'Restrict external access to the network')
    .option('--attachable', 'Enable manual container attachment')
    .option('--label <list>', 'Set metadata on a network', collect, [])
    .option('-o, --opt <list>', 'Set driver specific options', collect, [])
    .option('--ipv6', 'Enable or disable IPv6 networking')
    .option('--ipv4', 'Enable or disable IPv4 address assignment (default true)');
  create.addOption(create.createOption('--no-ipv4').hideHelp());
  addUnsupported(create, [
    {
      flags: '--ipam-driver <string>',
      description: 'IP Address Management Driver',
      reason: 'Berth has only the "default" IPAM driver',
      accept: (v) => v === 'default',
    },
    {
      flags: '--ipam-opt <map>',
      description: 'Set IPAM driver specific options',
      reason: 'the default IPAM driver takes no options',
      list: true,
    },
  ]).action(
    async (
      name: string,
      o: {
        driver: string;
        subnet?: string;
        gateway?: string;
        ipRange?: string;
        auxAddress: string[];
        internal?: boolean;
        attachable?: boolean;
        label: string[];
        opt: string[];
        ipv6?: boolean;
        ipv4?: boolean;
      },
    ) => {
      if (o.ipv4 === false)
        throw new CliError(
          'berth: --ipv4=false is not supported: IPv6-only networks are API 1.47 (EnableIPv4)',
          125,
        );
      const ipam =
        o.subnet || o.gateway || o.ipRange || o.auxAddress.length > 0
          ? [
              {
                ...(o.subnet ? { Subnet: o.subnet } : {}),
                ...(o.gateway ? { Gateway: o.gateway } : {}),
                ...(o.ipRange ? { IPRange: o.ipRange } : {}),
                ...(o.auxAddress.length > 0 ? { AuxiliaryAddresses: kv(o.auxAddress, 'aux-address') } : {}),
              },
            ]
          : [];
      const r = await ctx.client().json<{ Id: string }>('POST', '/networks/create', {
        body: {
          Name: name,
          Driver: o.driver,
          Internal: Boolean(o.internal),
          Attachable: Boolean(o.attachable),
          Labels: kv(o.label, 'label'),
          Options: kv(o.opt, 'opt'),
          IPAM: { Driver: 'default', Config: ipam },
          ...(o.ipv6 ? { EnableIPv6: true } : {}),
        },
      });
      ctx.out.write(`${r.Id}\n`);
    },
  );
  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "driver=bridge")', collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs')
    .action(async (o: { filter: string[]; format?: string; trunc?: boolean; quiet?: boolean }) => {
      const list = await ctx
        .client()
        .json<NetworkJson[]>('GET', '/networks', { query: { filters: filtersJson(o.filter) } });
      list.sort((a, b) => naturalCompare(a.Name, b.Name));
      const format = listFormat(
        effectiveFormat(o.format, 'networksFormat', o.quiet),
        Boolean(o.quiet),
        NETWORK_TABLE_FORMAT,
        '{{.ID}}',
      );
      const rows = list.map((n) => new NetworkRow(n, o.trunc !== false));
      ctx.out.write(renderList({ format, defaultTableFormat: format, headers: NETWORK_HEADERS, rows }));
    });
  network
    .command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<NETWORK...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (names: string[], o: { format?: string }) => {
      const results: unknown[] = [];
      const errors: string[] = [];
      for (const n of names) {
        try {
          results.push(await ctx.client().json('GET', `/networks/${encodeURIComponent(n)}`));
        } catch (err) {
          if (err instanceof EngineError && err.status === 404)
            errors.push(`Error response from daemon: ${err.message}`);
          else throw err;
        }
      }
      ctx.out.write(renderInspect(o.format, results));
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    });
  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<NETWORK...>')
    .option('-f, --force', 'Do not error if the network does not exist')
    .action(async (names: string[], o: { force?: boolean }) => {
      const errors: string[] = [];
      for (const n of names) {
        try {
          await ctx.client().json('DELETE', `/networks/${encodeURIComponent(n)}`);
          ctx.out.write(`${n}\n`);
        } catch (err) {
          if (o.force && err instanceof EngineError && err.status === 404) continue;
          if (err instanceof EngineError) errors.push(`Error response from daemon: ${err.message}`);
          else throw err;
        }
      }
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    });
  network
    .command('prune')
    .description('Remove all unused networks')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<label>")', collect, [])
    .action(async (o: { filter: string[] }) => {
      const r = await ctx.client().json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', {
        query: { filters: filtersJson(o.filter) },
      });
      const gone = r.NetworksDeleted ?? [];
      if (gone.length > 0) ctx.out.write(`Deleted Networks:\n${gone.map((n) => `${n}\n`).join('')}`);
    });
  const connect = network
    .command('connect')
    .description('Connect a container to a network')
    .argument('<NETWORK>')
    .argument('<CONTAINER>')
    .option('--alias <list>', 'Add network-scoped alias for the container', collect, [])
    .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
    .option('--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")')
    .option('--link <list>', 'Add link to another container', collect, [])
    .option('--link-local-ip <list>', 'Add a link-local address for the container', collect, []);
  addUnsupported(connect, [
    {
      flags: '--driver-opt <list>',
      description: 'driver options for the network',
      reason: 'the bridge driver takes no per-endpoint options (EndpointConfig.DriverOpts)',
      list: true,
    },
    {
      flags: '--gw-priority <int>',
      description: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.',
      reason: 'EndpointConfig.GwPriority is API 1.48; the first network connected gives the default route',
      accept: (v) => v === '0',
    },
  ]).action(
    async (
      net: string,
      container: string,
      o: { alias: string[]; ip?: string; ip6?: string; link: string[]; linkLocalIp: string[] },
    ) => {
      await ctx.client().json('POST', `/networks/${encodeURIComponent(net)}/connect`, {
        body: {
          Container: container,
          EndpointConfig: {
            ...ipamConfig(o.ip, o.ip6, o.linkLocalIp),
            Aliases: o.alias,
            ...(o.link.length > 0 ? { Links: o.link } : {}),
          },
        },
      });
    },
  );
  network
    .command('disconnect')
    .description('Disconnect a container from a network')
    .argument('<NETWORK>')
    .argument('<CONTAINER>')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .action(async (net: string, container: string, o: { force?: boolean }) => {
      await ctx.client().json('POST', `/networks/${encodeURIComponent(net)}/disconnect`, {
        body: { Container: container, Force: Boolean(o.force) },
      });
    });

  const port = async (container: string, spec: string | undefined) => {
    const info = await ctx
      .client()
      .json<{ NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } }>(
        'GET',
        `/containers/${encodeURIComponent(container)}/json`,
      );
    const ports = info.NetworkSettings.Ports ?? {};
    if (spec) {
      const key = spec.includes('/') ? spec : `${spec}/tcp`;
      const list = ports[key];
      if (!list || list.length === 0)
        throw new CliError(`Error: No public port '${key}' published for ${container}`);
      for (const b of list) ctx.out.write(`${b.HostIp}:${b.HostPort}\n`);
      return;
    }
    const keys = Object.keys(ports).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    for (const k of keys)
      for (const b of ports[k] ?? []) ctx.out.write(`${k} -> ${b.HostIp}:${b.HostPort}\n`);
  };
  for (const c of [
    program.command('port'),
    program.commands.find((x) => x.name() === 'container')?.command('port'),
  ]) {
    c?.description('List port mappings or a specific mapping for the container')
      .argument('<CONTAINER>')
      .argument('[PRIVATE_PORT[/PROTO]]')
      .action(port);
  }
}
