// Where a container's cgroup lives: `<parent>/<id>` in every hierarchy, the parent being the
// container's HostConfig.CgroupParent or berthd's --cgroup-parent, fixed in the record at create.
// The one place that joins the two (spec, stats, OOM check, leftovers, rm) and that says which
// parents are acceptable, for the API and for daemon.json alike.
import { access, readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '../errdefs/index.ts';

const ROOT = '/sys/fs/cgroup';

/** A cgroup directory name: what systemd slices and docker users write, nothing a shell or path reads twice. */
const COMPONENT = /^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*$/;
const NAME_MAX = 255;
const PATH_MAX = 1024;

/** The OCI cgroupsPath of container `id` under `parent` (an absolute cgroup path). */
export function cgroupsPathFor(parent: string, id: string): string {
  return path.posix.join(parent, id);
}

/**
 * `value` as an absolute cgroup path, or a 400 naming it. Docker's cgroupfs driver reads a
 * relative parent against dockerd's own cgroup; berthd takes it under each hierarchy's root
 * (one path in every v1 hierarchy, whatever cgroup berthd itself runs in). Refused: `.` and `..`
 * components (they would leave the hierarchy or name another container's cgroup by a second
 * spelling), characters outside letters, digits and `_ . @ + -`, and over-long names.
 */
export function checkCgroupParent(value: string, what = 'HostConfig.CgroupParent'): string {
  const bad = (why: string): never => {
    throw new InvalidArgumentError(
      'INVALID_CGROUP_PARENT',
      `invalid ${what} ${JSON.stringify(value)}: ${why}; use a path like "/berth-jobs" or "system.slice/jobs"`,
    );
  };
  if (value.length > PATH_MAX) bad(`longer than ${PATH_MAX} characters`);
  const parts = value.split('/').filter((p) => p !== '');
  if (parts.length === 0) bad('it names the root cgroup, not a parent below it');
  for (const p of parts) {
    if (p === '.' || p === '..') bad(`"${p}" is not allowed in a cgroup path`);
    if (p.length > NAME_MAX) bad(`the name "${p.slice(0, 20)}…" is longer than ${NAME_MAX} characters`);
    if (!COMPONENT.test(p))
      bad(`"${p}" has characters other than letters, digits, "_", ".", "@", "+" and "-"`);
  }
  return `/${parts.join('/')}`;
}

/** The hierarchy directories: every mounted v1 controller (links like `cpu` → `cpu,cpuacct` skipped), or the v2 root. */
async function hierarchies(version: 1 | 2, root: string): Promise<string[]> {
  if (version === 2) return [root];
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true }).catch(() => []))
    if (e.isDirectory()) out.push(path.join(root, e.name));
  return out;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/**
 * The topmost directory of `parent` that does not exist yet in some hierarchy (the one runc will
 * make at start, so the one rm may remove once empty), or undefined when it exists everywhere.
 */
export async function missingParentTop(
  version: 1 | 2,
  parent: string,
  root = ROOT,
): Promise<string | undefined> {
  const parts = parent.split('/').filter(Boolean);
  const dirs = await hierarchies(version, root);
  for (let i = 1; i <= parts.length; i++) {
    const prefix = `/${parts.slice(0, i).join('/')}`;
    for (const h of dirs) if (!(await exists(path.join(h, prefix)))) return prefix;
  }
  return undefined;
}

/**
 * Removes the parent directories berthd made (`parent` up to and including `madeTop`) in every
 * hierarchy, deepest first, each only if empty: another container's cgroup keeps its parent.
 */
export async function removeMadeParents(
  version: 1 | 2,
  parent: string,
  madeTop: string,
  root = ROOT,
): Promise<void> {
  if (!(parent === madeTop || parent.startsWith(`${madeTop}/`))) return;
  const chain: string[] = [];
  for (let p = parent; p.length >= madeTop.length && p !== '/'; p = path.posix.dirname(p)) chain.push(p);
  for (const h of await hierarchies(version, root))
    for (const p of chain)
      if (
        !(await rmdir(path.join(h, p)).then(
          () => true,
          () => false,
        ))
      )
        break;
}

/** Where a record's cgroup is: its own parent, or (records from before per-container parents) berthd's. */
export function containerCgroupsPath(
  rec: { readonly id: string; readonly cgroupParent?: string },
  daemonParent: string,
): string {
  return cgroupsPathFor(rec.cgroupParent ?? daemonParent, rec.id);
}

export interface CgroupPlacement {
  readonly cgroupParent: string;
  readonly cgroupParentMade?: string;
}

/**
 * The placement a new container's record keeps: the requested parent (checked) or berthd's. A
 * parent that is missing now, or that lies within one another container's record says berthd
 * made, is berthd's to remove once its last container goes. A parent inside another container's
 * cgroup is refused.
 */
export async function placeCgroup(
  requested: unknown,
  daemonParent: string,
  others: readonly {
    readonly id: string;
    readonly cgroupParent?: string;
    readonly cgroupParentMade?: string;
  }[],
  version: 1 | 2,
): Promise<CgroupPlacement> {
  if (requested === undefined || requested === null || requested === '')
    return { cgroupParent: daemonParent };
  if (typeof requested !== 'string')
    throw new InvalidArgumentError('INVALID_CGROUP_PARENT', 'HostConfig.CgroupParent must be a string');
  const parent = checkCgroupParent(requested);
  if (parent === daemonParent) return { cgroupParent: parent };
  // Inside another container's cgroup it would live under that one's limits and keep its cgroup
  // from being removed.
  const host = others.find((o) => {
    const cg = containerCgroupsPath(o, daemonParent);
    return parent === cg || parent.startsWith(`${cg}/`);
  });
  if (host)
    throw new InvalidArgumentError(
      'INVALID_CGROUP_PARENT',
      `invalid HostConfig.CgroupParent ${JSON.stringify(requested)}: it is inside the cgroup of container ${host.id}; use a parent of its own`,
    );
  const within = (top: string | undefined) =>
    top !== undefined && (parent === top || parent.startsWith(`${top}/`));
  const made =
    others.map((o) => o.cgroupParentMade).find(within) ?? (await missingParentTop(version, parent));
  return made ? { cgroupParent: parent, cgroupParentMade: made } : { cgroupParent: parent };
}
