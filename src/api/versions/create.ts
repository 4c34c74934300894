// `POST /containers/create` as each API version means it (moby's postContainersCreate): fields
// a version did not have are dropped, defaults older clients expect are filled in, and fields
// that need a newer version are refused. The body parts are freshly decoded per request and
// changed in place.
import { InvalidArgumentError, NotImplementedError } from '../../errdefs/index.ts';
import { apiHas, sinceVersion } from './behaviour.ts';

type Obj = Record<string, unknown>;

export interface CreateBodyParts {
  /** The container config: `Healthcheck`, `MacAddress` are read here. */
  readonly config: Obj;
  readonly hostConfig: Obj;
  /** `EndpointsConfig` entries, keyed by network as the client named it. */
  readonly endpoints: Record<string, Obj | null>;
}

export interface AdaptedCreate {
  readonly warnings: string[];
  /**
   * Endpoints beyond the one of `NetworkMode` (API ≥ 1.44 creates a container on several
   * networks): removed from `endpoints`, for the caller to connect once the container exists.
   */
  readonly extraEndpoints: [string, Obj | null][];
}

const obj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;

const needs = (what: string, b: Parameters<typeof sinceVersion>[0]) =>
  new InvalidArgumentError('API_VERSION_NEEDED', `${what} needs API v${sinceVersion(b)} or newer`);

const MOUNT_OPTIONS = [
  ['BindOptions', 'bind'],
  ['VolumeOptions', 'volume'],
  ['TmpfsOptions', 'tmpfs'],
] as const;

function adaptMounts(version: string, hostConfig: Obj): void {
  const mounts = Array.isArray(hostConfig.Mounts) ? (hostConfig.Mounts as unknown[]) : [];
  for (const raw of mounts) {
    const m = obj(raw);
    if (!m) continue;
    for (const [key, type] of MOUNT_OPTIONS) {
      if (m[key] === undefined || m.Type === type) continue;
      // API < 1.42 dropped options given for another mount type; 1.42 refuses them.
      if (!apiHas(version, 'mountOptionsChecked')) delete m[key];
      else
        throw new InvalidArgumentError(
          'MOUNT_OPTIONS_TYPE',
          `${key} must not be specified on mount type "${String(m.Type)}": give ${key} only to ${type} mounts`,
        );
    }
    const bind = obj(m.BindOptions);
    if (bind) {
      // NonRecursive (1.40) and CreateMountpoint (1.42) did not exist before.
      if (!apiHas(version, 'bindNonRecursive')) delete bind.NonRecursive;
      if (!apiHas(version, 'mountOptionsChecked')) delete bind.CreateMountpoint;
      if (!apiHas(version, 'readOnlyRecursiveOptions')) {
        if (bind.ReadOnlyForceRecursive === true)
          throw needs('BindOptions.ReadOnlyForceRecursive', 'readOnlyRecursiveOptions');
        delete bind.ReadOnlyNonRecursive;
        delete bind.ReadOnlyForceRecursive;
      } else if (bind.ReadOnlyForceRecursive === true) {
        throw new NotImplementedError(
          'READONLY_RECURSIVE',
          'BindOptions.ReadOnlyForceRecursive is not supported: Berth makes read-only binds read-only on their top mount only (as ReadOnlyNonRecursive)',
        );
      }
    }
    const vol = obj(m.VolumeOptions);
    if (vol && typeof vol.Subpath === 'string' && vol.Subpath !== '') {
      if (!apiHas(version, 'volumeSubpath')) throw needs('VolumeOptions.Subpath', 'volumeSubpath');
      throw new NotImplementedError(
        'VOLUME_SUBPATH',
        'VolumeOptions.Subpath is not supported by Berth: mount the whole volume, or bind-mount the subdirectory of its Mountpoint',
      );
    }
    const tmpfs = obj(m.TmpfsOptions);
    if (tmpfs && tmpfs.Options !== undefined) {
      if (!apiHas(version, 'tmpfsOptions')) delete tmpfs.Options;
      else if (Array.isArray(tmpfs.Options) && tmpfs.Options.length > 0)
        throw new NotImplementedError(
          'TMPFS_OPTIONS',
          'TmpfsOptions.Options is not supported by Berth: use SizeBytes and Mode, or HostConfig.Tmpfs with mount options',
        );
    }
  }
}

/**
 * DeviceRequests (1.40) need a device driver (Docker's is NVIDIA's); Berth has none, so a request
 * is refused as Docker refuses one no driver takes, never silently run without the device.
 */
function adaptDeviceRequests(version: string, hostConfig: Obj): void {
  const reqs = Array.isArray(hostConfig.DeviceRequests) ? (hostConfig.DeviceRequests as unknown[]) : [];
  if (!apiHas(version, 'deviceRequests')) {
    delete hostConfig.DeviceRequests;
    return;
  }
  const first = reqs.map(obj).find((r) => r !== undefined);
  if (!first) return;
  const caps = Array.isArray(first.Capabilities) ? (first.Capabilities as unknown[]) : [];
  const goCaps = `[${caps.map((c) => `[${Array.isArray(c) ? c.join(' ') : ''}]`).join(' ')}]`;
  throw new InvalidArgumentError(
    'NO_DEVICE_DRIVER',
    `could not select device driver "${typeof first.Driver === 'string' ? first.Driver : ''}" with capabilities: ${goCaps}: berthd has no GPU runtime (no device driver is present); run without --gpus / DeviceRequests`,
  );
}

/**
 * StorageOpt's only overlay option is `size`, which Docker meets with xfs project quotas
 * (`pquota`). Berth's store sets up no project quotas, so a size would be silently unbounded:
 * refuse it (Docker refuses the same way on a backing filesystem without quotas).
 */
function refuseStorageOpt(hostConfig: Obj): void {
  const opts = obj(hostConfig.StorageOpt);
  const keys = opts ? Object.keys(opts) : [];
  if (keys.length === 0) return;
  throw new InvalidArgumentError(
    'STORAGE_OPT_UNSUPPORTED',
    `--storage-opt is not supported: ${keys.map((k) => JSON.stringify(k)).join(', ')}: Berth's overlay store has no per-container quota (Docker needs overlay on xfs mounted with 'pquota' for size=); remove StorageOpt`,
  );
}

/** NetworkMode names the bridge (default) or a user-defined network: it has an endpoint. */
function endpointMode(mode: string): boolean {
  return mode !== 'host' && mode !== 'none' && !mode.startsWith('container:');
}

/** The EndpointsConfig key that configures NetworkMode's network, if any. */
function primaryKey(mode: string, keys: readonly string[]): string | undefined {
  const isDefault = mode === '' || mode === 'default' || mode === 'bridge';
  return keys.find((k) => k === mode || (isDefault && (k === 'default' || k === 'bridge' || k === '')));
}

function adaptEndpoints(version: string, parts: CreateBodyParts, warnings: string[]) {
  const { config, hostConfig, endpoints } = parts;
  const mode = typeof hostConfig.NetworkMode === 'string' ? hostConfig.NetworkMode : '';
  const mac = typeof config.MacAddress === 'string' ? config.MacAddress : '';
  const extra: [string, Obj | null][] = [];
  for (const ep of Object.values(endpoints)) {
    if (ep && !apiHas(version, 'gwPriority')) delete ep.GwPriority;
  }
  if (!apiHas(version, 'multipleEndpoints')) {
    // Before 1.44 an endpoint had no MacAddress of its own: only Config.MacAddress counts
    // (the container service applies it to NetworkMode's endpoint).
    if (mac === '') for (const ep of Object.values(endpoints)) if (ep) delete ep.MacAddress;
    return extra;
  }
  const keys = Object.keys(endpoints);
  const primary = primaryKey(mode, keys);
  if (keys.length > 1) {
    for (const k of keys) {
      if (k === primary) continue;
      extra.push([k, endpoints[k] ?? null]);
      delete endpoints[k];
    }
  }
  if (mac !== '') {
    // 1.44 moved the MAC address to the endpoint; the container-wide one still works, with a
    // warning, for the endpoint of NetworkMode.
    if (endpointMode(mode)) {
      const key = primary ?? (mode === '' ? 'default' : mode);
      const ep = endpoints[key] ?? {};
      const own = typeof ep.MacAddress === 'string' ? ep.MacAddress : '';
      if (own !== '' && own.toLowerCase() !== mac.toLowerCase())
        throw new InvalidArgumentError(
          'MAC_MISMATCH',
          'the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty',
        );
      ep.MacAddress = own || mac;
      endpoints[key] = ep;
    }
    delete config.MacAddress;
    warnings.push(
      'The container-wide MacAddress field is now deprecated. It should be specified in EndpointsConfig instead.',
    );
  }
  return extra;
}

/** Reads the create body parts as `version` means them; throws for what it cannot take. */
export function adaptCreateBody(version: string, parts: CreateBodyParts): AdaptedCreate {
  const { config, hostConfig } = parts;
  const warnings: string[] = [];
  // API 1.24 clients remove their containers themselves.
  if (!apiHas(version, 'autoRemove')) delete hostConfig.AutoRemove;
  if (apiHas(version, 'ipcShareableDefault')) {
    if (hostConfig.IpcMode === undefined || hostConfig.IpcMode === '') hostConfig.IpcMode = 'shareable';
  }
  if (!apiHas(version, 'bindNonRecursive')) delete hostConfig.KernelMemoryTCP;
  if (!apiHas(version, 'kernelMemory')) delete hostConfig.KernelMemory;
  if (!apiHas(version, 'consoleSize')) delete hostConfig.ConsoleSize;
  if (!apiHas(version, 'annotations')) delete hostConfig.Annotations;
  adaptDeviceRequests(version, hostConfig);
  refuseStorageOpt(hostConfig);
  const health = obj(config.Healthcheck);
  if (health && !apiHas(version, 'healthStartInterval')) delete health.StartInterval;
  adaptMounts(version, hostConfig);
  const extraEndpoints = adaptEndpoints(version, parts, warnings);
  return { warnings, extraEndpoints };
}
