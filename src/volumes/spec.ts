// Mount requests as clients send them — `-v` strings in HostConfig.Binds and Mount objects in
// HostConfig.Mounts — checked and turned into one normalised shape. Pure: no filesystem access,
// so the rules are unit-tested and the service decides what exists.
import path from 'node:path';
import { InvalidArgumentError } from '../errdefs/index.ts';

/** Docker's rule for local volume names; also keeps every name a single path component. */
export const VALID_VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The label Docker 23+ puts on anonymous volumes (prune removes only these by default). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export function checkVolumeName(name: string): void {
  if (!VALID_VOLUME_NAME.test(name)) {
    throw new InvalidArgumentError(
      'INVALID_VOLUME_NAME',
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

export const PROPAGATIONS = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'] as const;
export type Propagation = (typeof PROPAGATIONS)[number];

/** One requested mount after parsing, before volumes are created or paths checked. */
export type MountRequest =
  | {
      readonly type: 'volume';
      /** Empty: an anonymous volume. */
      readonly source: string;
      readonly target: string;
      readonly readOnly: boolean;
      readonly noCopy: boolean;
      /** Only from `--mount`: used when the volume is created by this mount. */
      readonly labels?: Record<string, string>;
      readonly driverOpts?: Record<string, string>;
      /** The `-v` mode text Docker echoes in inspect (`z` for `-v name:/p`). */
      readonly mode: string;
      /** Docker's CreateMountpoint semantics do not apply; kept for inspect. */
      readonly fromBind: boolean;
    }
  | {
      readonly type: 'bind';
      readonly source: string;
      readonly target: string;
      readonly readOnly: boolean;
      readonly propagation: Propagation;
      readonly recursive: boolean;
      /** `-v` creates a missing source directory; `--mount` refuses unless CreateMountpoint. */
      readonly createSource: boolean;
      readonly mode: string;
      readonly fromBind: boolean;
    }
  | {
      readonly type: 'tmpfs';
      readonly target: string;
      readonly readOnly: boolean;
      readonly sizeBytes?: number;
      readonly mode?: number;
    };

function invalid(msg: string): never {
  throw new InvalidArgumentError('INVALID_MOUNT', msg);
}

/** Absolute, cleaned container path; `/` itself cannot be a mount target. */
export function cleanTarget(target: string, what: string): string {
  if (!target.startsWith('/'))
    invalid(`${what}: invalid mount path: '${target}' mount path must be absolute`);
  const clean = path.posix.normalize(target).replace(/(.)\/+$/, '$1');
  if (clean === '/') invalid(`${what}: invalid specification: destination can't be '/'`);
  return clean;
}

/**
 * A `-v` / `Binds` entry: `dest`, `src:dest` or `src:dest:mode`, where src is an absolute host
 * path (bind) or a volume name, and mode is a comma list of ro|rw, z|Z, nocopy and one
 * propagation mode.
 */
export function parseBind(spec: string): MountRequest {
  const parts = spec.split(':');
  let source = '';
  let target: string;
  let mode = '';
  if (parts.length === 1) target = parts[0]!;
  else if (parts.length === 2) {
    if (parts[0] === '' || isModeList(parts[1]!)) invalid(`invalid volume specification: '${spec}'`);
    [source, target] = parts as [string, string];
  } else if (parts.length === 3) [source, target, mode] = parts as [string, string, string];
  else invalid(`invalid volume specification: '${spec}': use [SOURCE:]TARGET[:MODE]`);
  if (target === '') invalid(`invalid volume specification: '${spec}': empty target`);
  const cleaned = cleanTarget(target, `invalid volume specification: '${spec}'`);
  const opts = parseModeList(mode, spec);
  if (source.startsWith('/')) {
    if (opts.noCopy) invalid(`invalid mode: ${mode}: nocopy applies to volumes, not bind mounts ('${spec}')`);
    return {
      type: 'bind',
      source: path.posix.normalize(source),
      target: cleaned,
      readOnly: opts.readOnly,
      propagation: opts.propagation ?? 'rprivate',
      recursive: true,
      createSource: true,
      mode,
      fromBind: true,
    };
  }
  if (source !== '') checkVolumeName(source);
  if (opts.propagation)
    invalid(`invalid mode: ${mode}: propagation applies to bind mounts, not volumes ('${spec}')`);
  return {
    type: 'volume',
    source,
    target: cleaned,
    readOnly: opts.readOnly,
    noCopy: opts.noCopy,
    // Docker shows "z" for a named volume given without a mode.
    mode: mode === '' ? 'z' : mode,
    fromBind: true,
  };
}

function isModeList(s: string): boolean {
  try {
    parseModeList(s, s);
    return s !== '';
  } catch {
    return false;
  }
}

function parseModeList(
  mode: string,
  spec: string,
): { readOnly: boolean; noCopy: boolean; propagation?: Propagation } {
  let rw: string | undefined;
  let label: string | undefined;
  let noCopy = false;
  let propagation: Propagation | undefined;
  if (mode === '') return { readOnly: false, noCopy };
  for (const m of mode.split(',')) {
    const dup = () => invalid(`invalid mode: ${mode} (in '${spec}')`);
    if (m === 'ro' || m === 'rw') {
      if (rw !== undefined) dup();
      rw = m;
    } else if (m === 'z' || m === 'Z') {
      if (label !== undefined) dup();
      label = m;
    } else if (m === 'nocopy') {
      if (noCopy) dup();
      noCopy = true;
    } else if ((PROPAGATIONS as readonly string[]).includes(m)) {
      if (propagation !== undefined) dup();
      propagation = m as Propagation;
    } else
      invalid(
        `invalid mode: ${m} (in '${spec}'): use ro, rw, z, Z, nocopy or a propagation (${PROPAGATIONS.join(', ')})`,
      );
  }
  return { readOnly: rw === 'ro', noCopy, ...(propagation ? { propagation } : {}) };
}

/** The API's Mount object (HostConfig.Mounts), as sent by `--mount` in the docker CLI. */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string> | null;
    DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null;
  } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

/** Checks one HostConfig.Mounts entry the way Docker's validateMountConfig does. */
export function parseApiMount(raw: unknown): MountRequest {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) invalid('invalid mount: expected a JSON object');
  const m = raw as ApiMount;
  const type = m.Type ?? '';
  const bad = (msg: string) => invalid(`invalid mount config for type "${type}": ${msg}`);
  if (typeof m.Target !== 'string' || m.Target === '') bad('field Target must not be empty');
  const target = cleanTarget(m.Target as string, `invalid mount config for type "${type}"`);
  const source = typeof m.Source === 'string' ? m.Source : '';
  const readOnly = m.ReadOnly === true;
  switch (type) {
    case 'bind': {
      if (source === '') bad('field Source must not be empty');
      if (!source.startsWith('/')) bad(`invalid mount path: '${source}' mount path must be absolute`);
      if (m.VolumeOptions) bad('field VolumeOptions must not be specified');
      if (m.TmpfsOptions) bad('field TmpfsOptions must not be specified');
      const p = m.BindOptions?.Propagation || 'rprivate';
      if (!(PROPAGATIONS as readonly string[]).includes(p))
        bad(`invalid propagation mode "${p}": use one of ${PROPAGATIONS.join(', ')}`);
      return {
        type: 'bind',
        source: path.posix.normalize(source),
        target,
        readOnly,
        propagation: p as Propagation,
        recursive: m.BindOptions?.NonRecursive !== true,
        createSource: m.BindOptions?.CreateMountpoint === true,
        mode: '',
        fromBind: false,
      };
    }
    case 'volume': {
      if (m.BindOptions) bad('field BindOptions must not be specified');
      if (m.TmpfsOptions) bad('field TmpfsOptions must not be specified');
      if (source !== '') checkVolumeName(source);
      const driver = m.VolumeOptions?.DriverConfig?.Name;
      if (driver && driver !== 'local')
        bad(`volume driver "${driver}" is not available: only the local driver exists`);
      const labels = m.VolumeOptions?.Labels ?? undefined;
      const driverOpts = m.VolumeOptions?.DriverConfig?.Options ?? undefined;
      return {
        type: 'volume',
        source,
        target,
        readOnly,
        noCopy: m.VolumeOptions?.NoCopy === true,
        ...(labels ? { labels } : {}),
        ...(driverOpts ? { driverOpts } : {}),
        mode: '',
        fromBind: false,
      };
    }
    case 'tmpfs': {
      if (source !== '') bad('field Source must not be specified');
      if (m.BindOptions) bad('field BindOptions must not be specified');
      if (m.VolumeOptions) bad('field VolumeOptions must not be specified');
      const size = m.TmpfsOptions?.SizeBytes;
      const mode = m.TmpfsOptions?.Mode;
      if (size !== undefined && (!Number.isInteger(size) || size < 0))
        bad('TmpfsOptions.SizeBytes must be a non-negative integer');
      if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777))
        bad('TmpfsOptions.Mode must be a file mode like 1777 (octal)');
      return {
        type: 'tmpfs',
        target,
        readOnly,
        ...(size ? { sizeBytes: size } : {}),
        ...(mode !== undefined ? { mode } : {}),
      };
    }
    case '':
      return invalid('invalid mount config: mount type must be given: bind, volume or tmpfs');
    default:
      return invalid(
        `invalid mount config for type "${type}": mount type unknown; use bind, volume or tmpfs`,
      );
  }
}

/** `--volumes-from name[:ro|rw]`. */
export function parseVolumesFrom(spec: string): { container: string; mode: '' | 'ro' | 'rw' } {
  const i = spec.lastIndexOf(':');
  if (i === -1) return { container: spec, mode: '' };
  const mode = spec.slice(i + 1);
  if (mode !== 'ro' && mode !== 'rw')
    invalid(`invalid mode for --volumes-from ${spec}: use ro or rw (container[:ro|rw])`);
  return { container: spec.slice(0, i), mode };
}

/** Local driver options (`--opt`): type, device and o, as Docker's local driver takes them. */
export function checkDriverOpts(opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) {
    if (k !== 'type' && k !== 'device' && k !== 'o')
      throw new InvalidArgumentError(
        'INVALID_VOLUME_OPT',
        `invalid option key: "${k}": the local driver takes type, device and o`,
      );
  }
  const n = Object.keys(opts).length;
  if (n > 0 && (!opts.type || !opts.device)) {
    throw new InvalidArgumentError(
      'INVALID_VOLUME_OPT',
      `missing required option: "${opts.type ? 'device' : 'type'}": a local volume with options needs type and device (e.g. type=tmpfs device=tmpfs, or type=none o=bind device=/path)`,
    );
  }
  if (opts.type === 'none' && !/(^|,)r?bind(,|$)/.test(opts.o ?? ''))
    throw new InvalidArgumentError('INVALID_VOLUME_OPT', 'type=none needs o=bind (a bind mount of device)');
  if (opts.o?.includes('bind') && !opts.device!.startsWith('/'))
    throw new InvalidArgumentError(
      'INVALID_VOLUME_OPT',
      `device "${opts.device}" of a bind volume must be an absolute host path`,
    );
}
