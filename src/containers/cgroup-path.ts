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

/**
 * The hierarchies by name (relative to `root`): every mounted v1 controller or named hierarchy
 * (links like `cpu` → `cpu,cpuacct` skipped), or `.` for the v2 root.
 */
async function hierarchies(version: 1 | 2, root: string): Promise<string[]> {
  if (version === 2) return ['.'];
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true }).catch(() => []))
    if (e.isDirectory()) out.push(e.name);
  return out;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Per hierarchy name, the topmost directory berthd made (so rm may remove it, and below, once empty). */
export type MadeParents = Readonly<Record<string, string>>;

/**
 * In each hierarchy where part of `parent` does not exist yet, its topmost missing directory
 * (the one runc will make at start). Kept per hierarchy: a parent missing in one hierarchy may
 * exist in another, owned by someone else (an empty `system.slice` systemd keeps in its named
 * hierarchy), and that one is not berthd's to remove.
 */
export async function missingParentTops(version: 1 | 2, parent: string, root = ROOT): Promise<MadeParents> {
  const parts = parent.split('/').filter(Boolean);
  const out: Record<string, string> = {};
  for (const h of await hierarchies(version, root))
    for (let i = 1; i <= parts.length; i++) {
      const prefix = `/${parts.slice(0, i).join('/')}`;
      if (!(await exists(path.join(root, h, prefix)))) {
        out[h] = prefix;
        break;
      }
    }
  return out;
}

/** The shallowest of the made tops (a summary kept in the record), or undefined when none. */
function shallowest(made: MadeParents): string | undefined {
  let top: string | undefined;
  for (const t of Object.values(made)) if (top === undefined || t.length < top.length) top = t;
  return top;
}

/**
 * The topmost directory of `parent` that does not exist yet in some hierarchy, or undefined when
 * it exists everywhere (the summary of missingParentTops).
 */
export async function missingParentTop(
  version: 1 | 2,
  parent: string,
  root = ROOT,
): Promise<string | undefined> {
  return shallowest(await missingParentTops(version, parent, root));
}

/**
 * Removes the parent directories berthd made, in each hierarchy only those it made there
 * (`parent` up to and including that hierarchy's made top), deepest first, each only if empty:
 * another container's cgroup keeps its parent.
 */
export async function removeMadeParents(
  version: 1 | 2,
  parent: string,
  made: MadeParents,
  root = ROOT,
): Promise<void> {
  // Only names that are hierarchies now: a record's keys never reach outside `root`.
  for (const h of await hierarchies(version, root)) {
    const top = Object.hasOwn(made, h) ? made[h] : undefined;
    if (top === undefined || !(parent === top || parent.startsWith(`${top}/`))) continue;
    for (let p = parent; p.length >= top.length && p !== '/'; p = path.posix.dirname(p))
      if (
        !(await rmdir(path.join(root, h, p)).then(
          () => true,
          () => false,
        ))
      )
        break;
  }
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
  readonly cgroupParentMadeIn?: MadeParents;
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
    readonly cgroupParentMadeIn?: MadeParents;
  }[],
  version: 1 | 2,
  root = ROOT,
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
  const made: Record<string, string> = { ...(await missingParentTops(version, parent, root)) };
  // Within a directory another record says berthd made in a hierarchy: that one's top there
  // (it may exist by now, made at that container's start, and go with the last of the two).
  for (const o of others)
    for (const [h, top] of Object.entries(o.cgroupParentMadeIn ?? {}))
      if (within(top) && (made[h] === undefined || top.length < made[h].length)) made[h] = top;
  const top = shallowest(made);
  return top
    ? { cgroupParent: parent, cgroupParentMade: top, cgroupParentMadeIn: made }
    : { cgroupParent: parent };
}
