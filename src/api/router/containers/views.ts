import { humanDuration } from '../../../base/duration.ts';
// Docker's JSON shapes for containers (inspect and list), derived from Berth's records.
import type { ContainerRecord } from '../../../containers/index.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';

export function stateView(rec: ContainerRecord) {
  const s = rec.state;
  const running = s.status === 'running' || s.status === 'paused';
  return {
    Status: s.status,
    Running: running,
    Paused: s.status === 'paused',
    Restarting: false,
    OOMKilled: false,
    Dead: s.status === 'dead',
    Pid: running ? s.pid : 0,
    ExitCode: s.status === 'exited' ? s.exitCode : 0,
    Error: s.status === 'exited' || s.status === 'dead' ? s.error : '',
    StartedAt: 'startedAt' in s ? s.startedAt : ZERO_TIME,
    FinishedAt: s.status === 'exited' ? s.finishedAt : ZERO_TIME,
  };
}

export function inspectView(rec: ContainerRecord, graphDriver: Record<string, string>) {
  return {
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
      NetworkMode: 'none',
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: false,
      LogConfig: { Type: 'json-file', Config: {} },
      ...rec.hostConfig,
    },
    GraphDriver: { Name: 'overlay2', Data: graphDriver },
    Mounts: [],
    Config: { ...rec.config, Env: rec.config.Env, Cmd: rec.config.Cmd, Entrypoint: rec.config.Entrypoint },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: {},
      SandboxKey: '',
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: '',
      Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      MacAddress: '',
      Networks: {},
    },
  };
}

/** `docker ps` STATUS text: "Up 3 minutes", "Exited (0) 2 seconds ago", "Created". */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.state;
  switch (s.status) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))} (Paused)`;
    case 'exited':
      return `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'dead':
      return 'Dead';
  }
}

export function summaryView(rec: ContainerRecord) {
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.config.Image,
    ImageID: rec.imageId,
    Command: [rec.path, ...rec.args].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' '),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: [],
    Labels: rec.config.Labels,
    State: rec.state.status,
    Status: statusText(rec),
    HostConfig: { NetworkMode: String(rec.hostConfig.NetworkMode ?? 'none') },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}
