// Response fields that exist only in some API versions. Views build the union of every
// version's fields; `shapeFor` removes those the request's version does not have, so a 1.24
// client and a 1.50 client each read the shape Docker sends them. Paths are dotted; `*` is any
// key of a map or any element of a list.
import { inRange, type VersionRange } from './version.ts';

export type VersionedView =
  | 'containerInspect'
  | 'containerSummary'
  | 'imageInspect'
  | 'imageSummary'
  | 'systemDf'
  | 'info'
  | 'network';

interface FieldRule extends VersionRange {
  readonly view: VersionedView;
  readonly path: string;
  /** Outside its range the field goes only when empty (0, '', false, null, [] or {}). */
  readonly onlyWhenEmpty?: true;
}

const ENDPOINTS = 'NetworkSettings.Networks.*';

// The image inspect `Config` fields that belong to containers, not images (gone at 1.50).
const CONTAINER_ONLY_CONFIG = [
  'Hostname',
  'Domainname',
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'Tty',
  'OpenStdin',
  'StdinOnce',
  'Image',
];

const FIELDS: readonly FieldRule[] = [
  // containers
  { view: 'containerInspect', path: 'HostConfig.KernelMemory', until: '1.42', onlyWhenEmpty: true },
  { view: 'containerInspect', path: 'HostConfig.KernelMemoryTCP', until: '1.42', onlyWhenEmpty: true },
  { view: 'containerInspect', path: 'HostConfig.Annotations', since: '1.43' },
  { view: 'containerInspect', path: 'Config.Healthcheck.StartInterval', since: '1.44' },
  { view: 'containerInspect', path: `${ENDPOINTS}.DNSNames`, since: '1.44' },
  { view: 'containerInspect', path: `${ENDPOINTS}.GwPriority`, since: '1.48' },
  { view: 'containerSummary', path: 'HostConfig.Annotations', since: '1.46' },
  { view: 'containerSummary', path: `${ENDPOINTS}.DNSNames`, since: '1.44' },
  { view: 'containerSummary', path: `${ENDPOINTS}.GwPriority`, since: '1.48' },
  // images
  { view: 'imageSummary', path: 'VirtualSize', until: '1.44' },
  { view: 'imageInspect', path: 'VirtualSize', until: '1.44' },
  { view: 'imageInspect', path: 'Container', until: '1.45' },
  { view: 'imageInspect', path: 'ContainerConfig', until: '1.45' },
  ...CONTAINER_ONLY_CONFIG.map(
    (f): FieldRule => ({ view: 'imageInspect', path: `Config.${f}`, until: '1.50' }),
  ),
  { view: 'systemDf', path: 'Images.*.VirtualSize', until: '1.44' },
  { view: 'systemDf', path: 'BuilderSize', until: '1.42' },
  { view: 'systemDf', path: 'BuildCache.*.Parent', until: '1.42' },
  { view: 'systemDf', path: 'BuildCache.*.Parents', since: '1.42' },
  // /info
  { view: 'info', path: 'ExecutionDriver', until: '1.25' },
  { view: 'info', path: 'Isolation', since: '1.25' },
  { view: 'info', path: 'KernelMemory', until: '1.42' },
  { view: 'info', path: 'KernelMemoryTCP', until: '1.42' },
  { view: 'info', path: 'CDISpecDirs', since: '1.44' },
  { view: 'info', path: 'RegistryConfig.AllowNondistributableArtifactsCIDRs', until: '1.49' },
  { view: 'info', path: 'RegistryConfig.AllowNondistributableArtifactsHostnames', until: '1.49' },
  { view: 'info', path: 'ContainerdCommit.Expected', until: '1.49' },
  { view: 'info', path: 'RuncCommit.Expected', until: '1.49' },
  { view: 'info', path: 'InitCommit.Expected', until: '1.49' },
  { view: 'info', path: 'FirewallBackend', since: '1.49' },
  { view: 'info', path: 'BridgeNfIptables', until: '1.50' },
  { view: 'info', path: 'BridgeNfIp6tables', until: '1.50' },
  // networks
  { view: 'network', path: 'EnableIPv4', since: '1.48' },
];

const byView = new Map<VersionedView, { rule: FieldRule; path: string[] }[]>();
for (const rule of FIELDS) {
  const list = byView.get(rule.view) ?? [];
  list.push({ rule, path: rule.path.split('.') });
  byView.set(rule.view, list);
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === 0 || v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

/**
 * `v` without the field at `path`. Objects along the path are copied, never changed: views
 * share sub-objects with the records they show.
 */
function without(v: unknown, path: readonly string[], onlyWhenEmpty: boolean): unknown {
  if (v === null || typeof v !== 'object' || path.length === 0) return v;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(v)) return head === '*' ? v.map((x) => without(x, rest, onlyWhenEmpty)) : v;
  const o = v as Record<string, unknown>;
  const keys = head === '*' ? Object.keys(o) : Object.hasOwn(o, head) ? [head] : [];
  if (keys.length === 0) return v;
  const out: Record<string, unknown> = { ...o };
  for (const k of keys) {
    if (rest.length > 0) out[k] = without(out[k], rest, onlyWhenEmpty);
    else if (!onlyWhenEmpty || isEmpty(out[k])) delete out[k];
  }
  return out;
}

/** `value` (a view's full shape) as the API at `version` has it. */
export function shapeFor<T>(view: VersionedView, value: T, version: string): T {
  let out: unknown = value;
  for (const { rule, path } of byView.get(view) ?? []) {
    if (!inRange(version, rule)) out = without(out, path, rule.onlyWhenEmpty === true);
  }
  return out as T;
}

/** The rules themselves, for tests and docs. */
export function fieldRules(): readonly FieldRule[] {
  return FIELDS;
}
