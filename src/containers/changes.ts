// `docker diff`: what a container changed, read from its overlay upper directory against the
// image layers below, in Docker's order and kinds (overlay2's OverlayChanges):
//  - a whiteout (char 0/0) is a deletion; an opaque directory that hides a lower one is one too;
//  - anything else is a change if the lower view has the path, else an addition;
//  - the parent of an addition or deletion is reported changed once, before it.
// Mount points Berth itself creates in the upper dir (Docker keeps them in an init layer) are
// not reported while they are empty.
import type { Stats } from 'node:fs';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { readXattrsRecursive } from '../archive/index.ts';
import { lstatBeneath } from '../pathsafe/index.ts';

export const ChangeKind = { Modify: 0, Add: 1, Delete: 2 } as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

export interface Change {
  readonly Path: string;
  readonly Kind: ChangeKind;
}

/** Paths runc or Berth create as mount points in every container (Docker's init layer). */
export const MOUNT_POINTS = [
  '/.dockerenv',
  '/dev',
  '/etc/hostname',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/proc',
  '/sbin/docker-init',
  '/sys',
] as const;

const OPAQUE = 'trusted.overlay.opaque';

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** The lower view of a path: the first layer (topmost first) that has it, unless whited out. */
export async function lowerStat(lowers: readonly string[], rel: string): Promise<Stats | undefined> {
  for (const layer of lowers) {
    // Literal: a symlinked parent in a layer names nothing there (and must not reach the host).
    const st = await lstatBeneath(layer, rel);
    if (st === undefined) continue;
    return isWhiteout(st) ? undefined : st;
  }
  return undefined;
}

async function isEmpty(p: string, st: Stats): Promise<boolean> {
  if (st.isFile()) return st.size === 0;
  if (st.isDirectory()) return (await fsp.readdir(p)).length === 0;
  return false;
}

/**
 * Mount points in the upper dir that only Berth put there: empty, and absent from the image.
 * Paths are container paths (`/etc/hosts`).
 */
export async function berthMountPoints(
  upper: string,
  lowers: readonly string[],
  extra: readonly string[] = [],
): Promise<Set<string>> {
  const out = new Set<string>();
  for (const p of [...MOUNT_POINTS, ...extra]) {
    // The container may have replaced a parent with a symlink to a host path: never follow it.
    const st = await lstatBeneath(upper, p);
    if (st && (await isEmpty(path.join(upper, p), st)) && !(await lowerStat(lowers, p))) out.add(p);
  }
  return out;
}

/**
 * Directories count as unchanged when type, mode and owner match the lower one. (Docker also
 * compares size and mtime; overlayfs copy-up and Berth's mount points touch a parent's mtime,
 * which would report `/etc` in every container.)
 */
function sameDir(a: Stats, b: Stats): boolean {
  return a.isDirectory() && b.isDirectory() && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

/** The changes of `upper` over `lowers` (absolute layer dirs, topmost first). */
export async function containerChanges(
  upper: string,
  lowers: readonly string[],
  skip: ReadonlySet<string> = new Set(),
): Promise<Change[]> {
  const xattrs = await readXattrsRecursive(upper, `^${OPAQUE.replace(/\./g, '\\.')}$`);
  const opaque = new Set<string>();
  for (const [rel, attrs] of xattrs) {
    if (attrs.get(OPAQUE)?.toString('latin1') === 'y')
      opaque.add(`/${Buffer.from(rel, 'latin1').toString('utf8')}`);
  }
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  // The walk holds each directory open and reaches children through its fd with O_NOFOLLOW: a
  // running container swapping a directory for a symlink mid-walk cannot make it list a host
  // directory (the swapped entry is then seen as the symlink it has become, or skipped).
  const visit = async (rel: string, dirFd: fsp.FileHandle): Promise<void> => {
    const at = `/proc/self/fd/${dirFd.fd}`;
    const names = (await fsp.readdir(at)).sort();
    for (const name of names) {
      const p = rel === '/' ? `/${name}` : `${rel}/${name}`;
      if (skip.has(p)) continue;
      const st = await fsp.lstat(`${at}/${name}`).catch(() => undefined);
      if (st === undefined) continue; // removed meanwhile
      const lower = await lowerStat(lowers, p);
      let kind: ChangeKind | undefined;
      if (isWhiteout(st) || (opaque.has(p) && lower?.isDirectory())) kind = ChangeKind.Delete;
      else if (lower === undefined) kind = ChangeKind.Add;
      else if (!sameDir(st, lower)) kind = ChangeKind.Modify;
      if (kind !== undefined) {
        if (st.isDirectory()) changedDirs.add(p);
        if (kind !== ChangeKind.Modify) {
          const parent = path.posix.dirname(p);
          if (parent !== '/' && !changedDirs.has(parent)) {
            changes.push({ Path: parent, Kind: ChangeKind.Modify });
            changedDirs.add(parent);
          }
        }
        changes.push({ Path: p, Kind: kind });
      }
      if (st.isDirectory()) {
        const child = await fsp
          .open(`${at}/${name}`, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW)
          .catch(() => undefined);
        if (child === undefined) continue; // swapped for something else meanwhile
        try {
          await visit(p, child);
        } finally {
          await child.close();
        }
      }
    }
  };
  const top = await fsp.open(upper, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await visit('/', top);
  } finally {
    await top.close();
  }
  return changes;
}
