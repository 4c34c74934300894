import { humanDuration } from '../../../base/duration.ts';
// Docker's JSON shapes for containers (inspect and list), derived from Berth's records.
import { type ContainerRecord, inspectLinks } from '../../../containers/index.ts';
import { apiHas, shapeFor } from '../../versions/index.ts';
import type { ContainerNetworks } from './backend.ts';
import { withHostConfigDefaults } from './host-config-view.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** State.Health: a container with a healthcheck is `starting` until its first probe. */
function healthOf(rec: ContainerRecord): ContainerRecord['health'] | undefined {
  if (rec.health) return rec.health;
  const test = rec.config.Healthcheck?.Test;
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined;
  return { Status: 'starting', FailingStreak: 0, Log: [] };
}

export function stateView(rec: ContainerRecord) {
  const s = rec.state;
  const running = s.status === 'running' || s.status === 'paused';
  const restarting = rec.restarting === true && s.status === 'exited';
  return {
    Status: restarting ? 'restarting' : s.status,
    Running: running,
    Paused: s.status === 'paused',
    Restarting: restarting,
    OOMKilled: s.status === 'exited' && s.oomKilled === true,
    Dead: s.status === 'dead',
    Pid: running ? s.pid : 0,
    ExitCode: s.status === 'exited' ? s.exitCode : 0,
    Error: s.status === 'exited' || s.status === 'dead' ? s.error : '',
    StartedAt: 'startedAt' in s ? s.startedAt : ZERO_TIME,
    FinishedAt: s.status === 'exited' ? s.finishedAt : ZERO_TIME,
    ...(running && healthOf(rec) ? { Health: healthOf(rec) } : {}),
  };
}

/**
 * NetworkSettings.Networks: the settings as requested (IPAMConfig, Links, DriverOpts, a chosen
 * MacAddress) next to what was assigned; the assigned values only while the container runs.
 * Every version's fields are here; versions/fields.ts drops those a version lacks.
 */
function endpointViews(rec: ContainerRecord, nets: ContainerNetworks, version: string) {
  const out: Record<string, unknown> = {};
  const shortId = rec.id.slice(0, 12);
  for (const e of nets.endpoints) {
    const c = e.config;
    // API < 1.45: a started container answers to its short ID on user-defined networks, and
    // Docker lists it among the aliases; from 1.45 the aliases are as requested, and the
    // names the embedded DNS answers to are DNSNames (1.44).
    const named = e.userDefined && e.active;
    const aliases = named && apiHas(version, 'aliasesWithShortId') ? [...e.aliases, shortId] : e.aliases;
    const dnsNames = named
      ? [...new Set([rec.name, ...e.aliases, shortId, rec.config.Hostname || shortId])]
      : null;
    out[e.networkName] = {
      IPAMConfig: c.IPAMConfig ?? null,
      Links: c.Links ?? null,
      Aliases: aliases.length > 0 ? aliases : null,
      // Berth picks the default gateway from NetworkMode's network, whatever the priority.
      GwPriority: 0,
      MacAddress: e.active ? e.mac : (c.MacAddress ?? ''),
      NetworkID: e.networkId,
      EndpointID: e.active ? e.endpointId : '',
      Gateway: e.active ? e.gateway : '',
      IPAddress: e.active ? e.ip : '',
      IPPrefixLen: e.active ? e.prefixLen : 0,
      IPv6Gateway: e.active ? e.gateway6 : '',
      GlobalIPv6Address: e.active ? e.ip6 : '',
      GlobalIPv6PrefixLen: e.active ? e.prefixLen6 : 0,
      DriverOpts: c.DriverOpts ?? null,
      DNSNames: dnsNames,
    };
  }
  return out;
}

/** NetworkSettings.Ports: published bindings of a running container, exposed ports as null. */
function portsView(rec: ContainerRecord, nets: ContainerNetworks) {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  const running = rec.state.status === 'running' || rec.state.status === 'paused';
  if (!running) return out;
  for (const k of Object.keys(rec.config.ExposedPorts ?? {})) out[k.includes('/') ? k : `${k}/tcp`] = null;
  for (const p of nets.ports) {
    const k = `${p.containerPort}/${p.proto}`;
    out[k] = [...(out[k] ?? []), { HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) }];
  }
  return out;
}

/** The list's Ports: published bindings, then (while running) exposed ports nobody published, as Docker lists them. */
function summaryPorts(rec: ContainerRecord, nets: ContainerNetworks) {
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = nets.ports.map(
    (p) => ({
      IP: p.hostIp || '0.0.0.0',
      PrivatePort: p.containerPort,
      PublicPort: p.hostPort,
      Type: p.proto,
    }),
  );
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') return out;
  for (const k of Object.keys(rec.config.ExposedPorts ?? {})) {
    const [port, proto = 'tcp'] = k.split('/');
    const n = Number(port);
    if (!Number.isInteger(n) || out.some((p) => p.PrivatePort === n && p.Type === proto)) continue;
    out.push({ PrivatePort: n, Type: proto });
  }
  return out;
}

export function inspectView(
  rec: ContainerRecord,
  graphDriver: Record<string, string>,
  nets: ContainerNetworks,
  version: string,
) {
  const primary = nets.endpoints.find((e) => e.isDefault && e.active);
  return shapeFor(
    'containerInspect',
    {
      Id: rec.id,
      Created: rec.created,
      Path: rec.path,
      Args: rec.args,
      State: stateView(rec),
      Image: rec.imageId,
      ResolvConfPath: '',
      HostnamePath: '',
      HostsPath: '',
      LogPath: '',
      Name: `/${rec.name}`,
      RestartCount: rec.restartCount,
      Driver: 'overlay2',
      Platform: 'linux',
      MountLabel: '',
      ProcessLabel: '',
      AppArmorProfile: '',
      ExecIDs: null,
      HostConfig: {
        NetworkMode: 'default',
        RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
        AutoRemove: false,
        // Sent as 0 to API < 1.42 clients; omitted from 1.42 unless set (versions/fields.ts).
        KernelMemory: 0,
        KernelMemoryTCP: 0,
        ...withHostConfigDefaults(rec.hostConfig as Record<string, unknown>),
        Links: inspectLinks(
          rec.hostConfig.Links as string[] | null | undefined,
          rec.name,
          String(rec.hostConfig.NetworkMode ?? 'default'),
        ),
        // No driver named means the daemon's default, which Docker reports by name, never as "".
        LogConfig: {
          Type: rec.hostConfig.LogConfig?.Type || 'json-file',
          Config: rec.hostConfig.LogConfig?.Config ?? {},
        },
      },
      GraphDriver: { Name: 'overlay2', Data: graphDriver },
      Mounts: mountsView(rec),
      // Volumes and OnBuild are always there in Docker's Config (null when empty).
      Config: {
        Volumes: null,
        OnBuild: null,
        ...rec.config,
        Env: rec.config.Env,
        Cmd: rec.config.Cmd,
        Entrypoint: rec.config.Entrypoint,
      },
      NetworkSettings: {
        Bridge: '',
        SandboxID: '',
        HairpinMode: false,
        LinkLocalIPv6Address: '',
        LinkLocalIPv6PrefixLen: 0,
        Ports: portsView(rec, nets),
        SandboxKey: nets.sandboxKey,
        SecondaryIPAddresses: null,
        SecondaryIPv6Addresses: null,
        EndpointID: primary?.endpointId ?? '',
        Gateway: primary?.gateway ?? '',
        GlobalIPv6Address: primary?.ip6 ?? '',
        GlobalIPv6PrefixLen: primary?.prefixLen6 ?? 0,
        IPAddress: primary?.ip ?? '',
        IPPrefixLen: primary?.prefixLen ?? 0,
        IPv6Gateway: primary?.gateway6 ?? '',
        MacAddress: primary?.mac ?? '',
        Networks: endpointViews(rec, nets, version),
      },
    },
    version,
  );
}

/** Docker's MountPoint list: volume entries carry Name and Driver, binds and tmpfs do not. */
export function mountsView(rec: ContainerRecord) {
  return (rec.mounts ?? []).map((m) => ({
    Type: m.Type,
    ...(m.Type === 'volume' ? { Name: m.Name ?? '' } : {}),
    Source: m.Source,
    Destination: m.Destination,
    ...(m.Type === 'volume' ? { Driver: 'local' } : {}),
    Mode: m.Mode,
    RW: m.RW,
    Propagation: m.Propagation,
  }));
}

/** `docker ps` STATUS text: "Up 3 minutes", "Exited (0) 2 seconds ago", "Created". */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.state;
  switch (s.status) {
    case 'created':
      return 'Created';
    case 'running': {
      const h = healthOf(rec)?.Status;
      const suffix = h === undefined ? '' : h === 'starting' ? ' (health: starting)' : ` (${h})`;
      return `Up ${humanDuration(now - Date.parse(s.startedAt))}${suffix}`;
    }
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))} (Paused)`;
    case 'exited':
      if (rec.restarting)
        return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
      return `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'dead':
      return 'Dead';
  }
}

export function summaryView(rec: ContainerRecord, nets: ContainerNetworks, version: string) {
  const annotations = rec.hostConfig.Annotations as Record<string, string> | undefined;
  return shapeFor(
    'containerSummary',
    {
      Id: rec.id,
      Names: [`/${rec.name}`],
      Image: rec.config.Image,
      ImageID: rec.imageId,
      Command: [rec.path, ...rec.args].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' '),
      Created: Math.floor(Date.parse(rec.created) / 1000),
      Ports: summaryPorts(rec, nets),
      Labels: rec.config.Labels,
      State: rec.state.status,
      Status: statusText(rec),
      HostConfig: {
        NetworkMode: String(rec.hostConfig.NetworkMode ?? 'default'),
        ...(annotations && Object.keys(annotations).length > 0 ? { Annotations: annotations } : {}),
      },
      NetworkSettings: { Networks: endpointViews(rec, nets, version) },
      Mounts: mountsView(rec),
    },
    version,
  );
}
