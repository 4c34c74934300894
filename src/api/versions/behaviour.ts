// Behaviours that changed between API versions, each with the version range it applies to
// (from the Engine API version history and moby's routers). Handlers ask `apiHas(version, name)`;
// the numbers live only here.
import { inRange, type VersionRange } from './version.ts';

const BEHAVIOURS = {
  /** 1.25: HostConfig.AutoRemove; older clients remove their containers themselves. */
  autoRemove: { since: '1.25' },
  /** 1.30: `POST /containers/{id}/wait` takes `condition` and answers its headers at once. */
  waitCondition: { since: '1.30' },
  /** 1.34: a removal that fails under `condition=removed` is told in `Error` (before: no body). */
  waitRemovalError: { since: '1.34' },
  /** Before 1.39, `/info` says `<unknown>` for a kernel version or OS it could not read. */
  infoUnknownText: { until: '1.39' },
  /** Before 1.40, a container without `IpcMode` gets `shareable` (since: `private`). */
  ipcShareableDefault: { until: '1.40' },
  /** 1.40: `HostConfig.DeviceRequests` (GPUs). */
  deviceRequests: { since: '1.40' },
  /** 1.40: `BindOptions.NonRecursive` and `HostConfig.KernelMemoryTCP`. */
  bindNonRecursive: { since: '1.40' },
  /** Before 1.41, `GET /images/json` takes the singular `filter` (a reference pattern). */
  legacyImageFilter: { until: '1.41' },
  /** 1.41: `stats?one-shot`. */
  statsOneShot: { since: '1.41' },
  /** 1.42: `stop`/`restart` take `signal`. */
  stopSignal: { since: '1.42' },
  /** 1.42: `GET /system/df?type=`. */
  dfType: { since: '1.42' },
  /** 1.42: attach/logs/exec name `application/vnd.docker.multiplexed-stream` (before: raw-stream). */
  multiplexedContentType: { since: '1.42' },
  /** 1.42: `HostConfig.ConsoleSize` and exec's `ConsoleSize` are honoured. */
  consoleSize: { since: '1.42' },
  /** Before 1.42, `KernelMemory` is taken at create and update (since: ignored). */
  kernelMemory: { until: '1.42' },
  /** 1.42: `volumes/prune` removes anonymous volumes only, unless `all=true`. */
  pruneAnonymousVolumesOnly: { since: '1.42' },
  /** 1.42: Bind/Volume/TmpfsOptions on a mount of another type are refused (before: dropped). */
  mountOptionsChecked: { since: '1.42' },
  /** Before 1.43, an untagged image is listed as `<none>:<none>` / `<none>@<none>`. */
  noneRepoTags: { until: '1.43' },
  /** 1.43: `HostConfig.Annotations`. */
  annotations: { since: '1.43' },
  /** 1.44: `Healthcheck.StartInterval`. */
  healthStartInterval: { since: '1.44' },
  /** 1.44: create takes several `EndpointsConfig` entries and endpoint-specific `MacAddress`. */
  multipleEndpoints: { since: '1.44' },
  /** 1.44: `BindOptions.ReadOnlyNonRecursive` / `ReadOnlyForceRecursive`. */
  readOnlyRecursiveOptions: { since: '1.44' },
  /** 1.44: image inspect omits `Created` when the config has none (before: the zero time). */
  omitMissingCreated: { since: '1.44' },
  /** Before 1.45, inspect's `Aliases` on user-defined networks include the short container ID. */
  aliasesWithShortId: { until: '1.45' },
  /** 1.45: `VolumeOptions.Subpath`. */
  volumeSubpath: { since: '1.45' },
  /** 1.46: `TmpfsOptions.Options`. */
  tmpfsOptions: { since: '1.46' },
  /** 1.48: `EndpointSettings.GwPriority`; `platform` on image history/load/save. */
  gwPriority: { since: '1.48' },
  /** 1.48: `EnableIPv4` at network create. */
  enableIPv4: { since: '1.48' },
  /** 1.48: `BridgeNfIptables`/`BridgeNfIp6tables` in `/info` are always false (omitted at 1.50). */
  bridgeNfAlwaysFalse: { since: '1.48' },
  /** 1.49: `platform` on image inspect. */
  imageInspectPlatform: { since: '1.49' },
} as const satisfies Record<string, VersionRange>;

export type Behaviour = keyof typeof BEHAVIOURS;

/** Does a request at `version` get `behaviour`? */
export function apiHas(version: string, behaviour: Behaviour): boolean {
  return inRange(version, BEHAVIOURS[behaviour]);
}

/** The version that introduced a behaviour, for "needs API vX" messages. */
export function sinceVersion(behaviour: Behaviour): string {
  const r: VersionRange = BEHAVIOURS[behaviour];
  return r.since ?? r.until ?? '';
}
