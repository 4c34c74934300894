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
      return `Up ${duration(now - Date.parse(s.startedAt))}`;
    case 'paused':
      return `Up ${duration(now - Date.parse(s.startedAt))} (Paused)`;
    case 'exited':
      return `Exited (${s.exitCode}) ${duration(now - Date.parse(s.finishedAt))} ago`;
    case 'dead':
      return 'Dead';
  }
}

/** go-units HumanDuration (as docker ps prints it). */
function duration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
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
