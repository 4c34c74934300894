// `docker cp` on the daemon side: stat, read (tar) and write (untar) paths of a container's root
// filesystem, following Docker's path rules. Paths are resolved the way a process in the
// container sees them (src/pathsafe): symlinks are followed inside the rootfs only, `..` never
// climbs above it, and extraction never writes through a symlink (archive/apply.ts). Reading
// (tar) and writing (untar) run with the container frozen (fsops.ts), so the walks of
// archive/ cannot be raced; stat does not freeze and looks through a directory fd instead.
// The container's volumes and binds are found by their destinations (locateInMounts,
// mountsBelow) and read or written in their sources, so cp sees what the container sees, as
// Docker's cp view (the mounts bound on the rootfs in a private mount namespace) does.
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { applyLayer, type PackPart, packPath, packPaths } from '../archive/index.ts';
import { ForbiddenError, InvalidArgumentError, isBerthError, NotFoundError } from '../errdefs/index.ts';
import { type Opened, openInRoot } from '../pathsafe/index.ts';
import type { MountPoint } from './record.ts';
import { resolveInRoot } from './rootfs.ts';

/** Docker's `ContainerPathStat` (the `X-Docker-Container-Path-Stat` header, base64 JSON). */
export interface PathStat {
  readonly name: string;
  readonly size: number;
  /** A Go `os.FileMode`: permission bits plus Go's type and special bits. */
  readonly mode: number;
  /** RFC 3339 with nanoseconds, as Go's time.Time marshals. */
  readonly mtime: string;
  /** For a symlink: its target fully resolved inside the container, absolute. */
  readonly linkTarget: string;
}

// Go's os.FileMode bits (io/fs): the docker CLI decodes the stat header with them.
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

export function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m += GO_SETUID;
  if (st.mode & 0o2000) m += GO_SETGID;
  if (st.mode & 0o1000) m += GO_STICKY;
  if (st.isDirectory()) m += GO_DIR;
  else if (st.isSymbolicLink()) m += GO_SYMLINK;
  else if (st.isCharacterDevice()) m += GO_DEVICE + GO_CHARDEV;
  else if (st.isBlockDevice()) m += GO_DEVICE;
  else if (st.isFIFO()) m += GO_PIPE;
  else if (st.isSocket()) m += GO_SOCKET;
  return m;
}

export function isGoDir(mode: number): boolean {
  return mode >= GO_DIR;
}

export function isGoSymlink(mode: number): boolean {
  return Math.floor(mode / GO_SYMLINK) % 2 === 1;
}

/** Go's time.Time JSON form, nanoseconds kept. */
function goTime(st: Stats & { mtimeNs?: bigint }): string {
  const iso = st.mtime.toISOString(); // millisecond precision
  const ns = Math.round((st.mtimeMs % 1000) * 1e6);
  const frac = ns === 0 ? '' : `.${String(ns).padStart(9, '0').replace(/0+$/, '')}`;
  return `${iso.slice(0, 19)}${frac}Z`;
}

/**
 * The container path as Docker makes it absolute: cleaned, but a trailing `/` or `/.` (which
 * changes what cp does) is kept.
 */
export function absContainerPath(p: string): string {
  const clean = path.posix.join('/', p).replace(/(.)\/+$/, '$1');
  if (p.endsWith('/.') || p === '.') return clean === '/' ? '/.' : `${clean}/.`;
  if (p.endsWith('/') && clean !== '/') return `${clean}/`;
  return clean;
}

/** Go's filepath.Base: `/` for the root, `.` for `a/.`. */
export function goBase(p: string): string {
  if (p === '' || /^\/+$/.test(p)) return p === '' ? '.' : '/';
  const trimmed = p.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

const { O_RDONLY, O_DIRECTORY } = fsConstants;

/**
 * What a container's processes see as their file tree: the root filesystem with its volumes
 * and binds on top. Those mounts live in the container's own mount namespace, not on the
 * host's view of the rootfs, so cp must look in each mount's source itself.
 */
export interface ContainerFs {
  readonly rootfs: string;
  readonly mounts?: readonly Pick<MountPoint, 'Type' | 'Source' | 'Destination' | 'RW'>[];
}

/** Where a container path lives: a root to resolve `inner` in, and the mount if not the rootfs. */
export interface Located {
  readonly root: string;
  /** The path inside `root`, absolute, with cp's trailing `/` or `/.` kept. */
  readonly inner: string;
  /** The container path `root` is mounted at ('' for the rootfs itself). */
  readonly base: string;
  readonly mount?: Pick<MountPoint, 'Type' | 'Source' | 'Destination' | 'RW'>;
}

/**
 * The innermost volume or bind whose destination contains `absPath` (lexically, as the mount
 * table matches), or the rootfs. Tmpfs mounts have no host source and stay on the rootfs.
 * Pure: the caller checks the mount's source on disk.
 */
export function locateInMounts(fs: ContainerFs, absPath: string): Located {
  let best: Located | undefined;
  for (const m of fs.mounts ?? []) {
    if (m.Type === 'tmpfs' || m.Source === '') continue;
    const dest = path.posix.join('/', m.Destination).replace(/\/+$/, '') || '/';
    if (dest === '/') continue; // a mount over / is not something Docker allows
    if (absPath !== dest && !absPath.startsWith(`${dest}/`)) continue;
    if (best && best.base.length >= dest.length) continue;
    best = { root: m.Source, inner: absPath.slice(dest.length) || '/', base: dest, mount: m };
  }
  if (best && !best.inner.startsWith('/')) best = { ...best, inner: `/${best.inner}` };
  return best ?? { root: fs.rootfs, inner: absPath, base: '' };
}

/**
 * locateInMounts, after the rootfs's symlinks (`/data -> /vol1`) are followed up to the last
 * component (that one too when `followLast`, as extraction does), so a link into a mount
 * reaches the mount. A file bind (`-v /host/file:/etc/x`) becomes a root of its own directory
 * holding only that name: nothing beside the file is reachable through it.
 */
async function locate(
  fs: string | ContainerFs,
  absPath: string,
  p: string,
  id: string,
  followLast = false,
): Promise<Located> {
  const view = typeof fs === 'string' ? { rootfs: fs } : fs;
  let l = locateInMounts(view, absPath);
  if (!l.mount && (view.mounts?.length ?? 0) > 0) {
    const slash = absPath.lastIndexOf('/');
    const head = followLast ? absPath.replace(/\/\.?$/, '') || '/' : absPath.slice(0, slash) || '/';
    const tail = followLast
      ? absPath.slice(head === '/' ? absPath.length : head.length)
      : absPath.slice(slash);
    const real = await resolveInRoot(view.rootfs, head).catch(() => undefined);
    if (real !== undefined) {
      const inRoot = path.posix.join('/', path.relative(view.rootfs, real));
      const again = locateInMounts(view, inRoot === '/' ? tail || '/' : `${inRoot}${tail}`);
      if (again.mount) l = again;
    }
  }
  if (!l.mount) return l;
  const st = await fsp.stat(l.root).catch(() => undefined);
  if (st === undefined || st.isDirectory()) return l;
  if (l.inner !== '/' && l.inner !== '/.') throw notFound(p, id);
  return { ...l, root: path.dirname(l.root), inner: `/${path.basename(l.root)}` };
}

function notFound(p: string, id: string): NotFoundError {
  return new NotFoundError('PATH_NOT_FOUND', `Could not find the file ${p} in container ${id}`);
}

interface Resolved {
  readonly stat: PathStat;
  /** Host path of the entry itself (its last component not followed). */
  readonly hostPath: string;
  readonly absPath: string;
  /** The container path of the entry, symlinked parents resolved. */
  readonly containerPath: string;
}

/**
 * Resolves the directory part inside the rootfs and keeps the last component as is (a
 * symlink there is reported, not followed), as Docker's ResolvePath + StatPath.
 */
export async function statContainerPath(fs: string | ContainerFs, p: string, id: string): Promise<Resolved> {
  const absPath = absContainerPath(p);
  const { root, inner, base } = await locate(fs, absPath, p, id);
  const slash = inner.lastIndexOf('/');
  const dirPart = inner.slice(0, slash + 1);
  const basePart = inner.slice(slash + 1);
  // The directory is opened by fd (pathsafe), and the entry looked at through that fd: stat
  // runs without freezing the container, which could otherwise swap a parent for a symlink to
  // the host between the resolution and the lstat.
  let opened: Opened;
  try {
    opened = await openInRoot(root, dirPart, { flags: O_RDONLY | O_DIRECTORY, scope: `container ${id}` });
  } catch (err) {
    if (isBerthError(err)) throw err; // a symlink loop or a path that kept changing
    throw notFound(p, id);
  }
  const dir = opened.resolved.abs;
  const self = basePart === '' || basePart === '.';
  const hostPath = self ? dir : path.join(dir, basePart);
  let st: Stats;
  try {
    st = self ? await opened.handle.stat() : await fsp.lstat(`/proc/self/fd/${opened.handle.fd}/${basePart}`);
  } catch {
    throw notFound(p, id);
  } finally {
    await opened.handle.close();
  }
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    const target = await resolveInRoot(root, inner);
    linkTarget = path.posix.join('/', base, path.relative(root, target));
  }
  return {
    hostPath,
    absPath,
    containerPath: path.posix.join('/', base, path.relative(root, hostPath)),
    stat: { name: goBase(absPath), size: st.size, mode: goFileMode(st), mtime: goTime(st), linkTarget },
  };
}

/** `GET /containers/{id}/archive`: the stat and a tar of the path, named as Docker names it. */
export async function archiveContainerPath(
  root: string | ContainerFs,
  p: string,
  id: string,
  signal?: AbortSignal,
): Promise<{ stat: PathStat; tar: Readable }> {
  const r = await statContainerPath(root, p, id);
  // Entries are named after the path the client asked for, not what a symlinked parent
  // resolved to; the rootfs itself is named `/` (`/.`: its contents, `.`).
  const top = goBase(r.absPath);
  const below =
    isGoDir(r.stat.mode) && typeof root !== 'string' ? await mountsBelow(root, r.containerPath) : [];
  if (below.length === 0) {
    const tar = packPath(path.dirname(r.hostPath), path.basename(r.hostPath), {
      rebase: top,
      ...(signal ? { signal } : {}),
    });
    return { stat: r.stat, tar };
  }
  // Mounts below the directory: the container sees their sources there, as Docker's cp view
  // (the mounts bound on the rootfs) does. The rootfs's tree goes without the mount points,
  // then each mount's source under its mount point, outermost first, without the mounts
  // nested in it.
  const outerFirst = [...below].reverse();
  const skipBelow = (dirBase: string, key: string) => {
    const inner = outerFirst
      .filter((m) => key === '' || m.key.startsWith(`${key}/`))
      .map((m) =>
        Buffer.from(`${dirBase}/${key === '' ? m.key : m.key.slice(key.length + 1)}`).toString('latin1'),
      );
    return (rel: string) => inner.includes(rel);
  };
  const prefix = top === '/' ? '' : `${top}/`;
  const parts: PackPart[] = [
    {
      dir: path.dirname(r.hostPath),
      base: path.basename(r.hostPath),
      rebase: top,
      skip: skipBelow(path.basename(r.hostPath), ''),
    },
    ...outerFirst.map((m) => ({
      dir: path.dirname(m.source),
      base: path.basename(m.source),
      rebase: `${prefix}${m.key}`,
      ...(m.kind === 'dir' ? { skip: skipBelow(path.basename(m.source), m.key) } : {}),
    })),
  ];
  return { stat: r.stat, tar: packPaths(parts, signal) };
}

export interface ExtractOptions {
  /** `-a`: keep the archive's uid/gid; otherwise everything is owned by root, as Docker. */
  readonly copyUIDGID: boolean;
  readonly noOverwriteDirNonDir: boolean;
  readonly readonlyRootfs: boolean;
  readonly signal?: AbortSignal;
}

/**
 * `PUT /containers/{id}/archive`: extracts a tar into a directory of the container. The path's
 * last component is followed too (a symlink to a directory is a fine destination), confined
 * to the rootfs; it must be an existing directory.
 */
export async function extractToContainer(
  fs: string | ContainerFs,
  p: string,
  id: string,
  tar: Readable,
  o: ExtractOptions,
): Promise<void> {
  const { root, inner, base, mount } = await locate(fs, absContainerPath(p), p, id, true);
  const dest = await resolveInRoot(root, inner);
  const st = await fsp.lstat(dest).catch(() => undefined);
  if (st === undefined) {
    tar.destroy();
    throw notFound(p, id);
  }
  if (!st.isDirectory()) {
    tar.destroy();
    throw new InvalidArgumentError(
      'EXTRACT_NOT_DIRECTORY',
      `extraction point ${p} is not a directory: copy to its parent directory instead`,
    );
  }
  // A read-write volume is writable on a read-only rootfs, and a read-only one is not on a
  // writable rootfs, as in the container itself.
  if (mount ? !mount.RW : o.readonlyRootfs) {
    tar.destroy();
    throw new ForbiddenError(
      mount ? 'MOUNT_READ_ONLY' : 'ROOTFS_READ_ONLY',
      mount
        ? `mounted volume ${mount.Destination} is marked read-only: cannot copy into ${p}`
        : `container rootfs is marked read-only: cannot copy into ${p}`,
    );
  }
  const view = typeof fs === 'string' ? { rootfs: fs } : fs;
  const diverted = await mountsBelow(view, path.posix.join('/', base, path.relative(root, dest)));
  const staged = new Map<string, MountBelow>();
  const tag = randomBytes(6).toString('hex');
  try {
    await applyLayer(tar, dest, {
      whiteouts: false,
      owner: o.copyUIDGID ? 'keep' : { uid: 0, gid: 0 },
      noOverwriteDirNonDir: o.noOverwriteDirNonDir,
      // Names are relative to the destination even with a leading `/`, as Docker's untar joins
      // them (the docker CLI's --use-api-socket sends `/run/secrets/docker/config.json` to `/`).
      rename: (raw: string) => {
        const name = raw.replace(/^\/+/, '');
        if (diverted.length === 0) return name;
        const rel = path.posix.normalize(name.replace(/^(\.?\/)+/, '')).replace(/\/+$/, '');
        // The innermost mount holding the entry (the mount point itself, or below it);
        // `diverted` is sorted longest key first.
        const m = diverted.find((k) => rel === k.key || rel.startsWith(`${k.key}/`));
        if (m === undefined) return name;
        if (m.kind === 'dir' && !m.rw) throw readOnlyMount(m, p);
        // A file bind is staged beside its mount point, a directory mount at the top of the
        // destination (its mount point may be a bind inside another mount).
        const stage =
          m.kind === 'file'
            ? path.posix.join(path.posix.dirname(m.key), `.berth-cp-${tag}-${path.posix.basename(m.key)}`)
            : `.berth-cp-${tag}-m${diverted.indexOf(m)}`;
        staged.set(stage, m);
        return stage + rel.slice(m.key.length);
      },
      ...(o.signal ? { signal: o.signal } : {}),
    });
    for (const [stage, m] of staged) {
      if (m.kind === 'file') await intoFileBind(path.join(dest, stage), m, p);
      else await intoDirMount(dest, stage, m, p, o);
    }
  } catch (err) {
    // Name entries as the archive did, not by their staging place.
    if (err instanceof Error)
      for (const [stage, m] of staged) err.message = err.message.replaceAll(stage, m.key);
    throw err;
  } finally {
    // Nothing staged stays in the container, whatever failed.
    for (const stage of staged.keys()) await fsp.rm(path.join(dest, stage), { recursive: true, force: true });
  }
}

/** A volume or bind below an extraction's destination, where its entries must be written. */
interface MountBelow {
  /** Its mount point, relative to the destination. */
  readonly key: string;
  /** A file bind is written in place; a directory mount gets its entries untarred into it. */
  readonly kind: 'file' | 'dir';
  readonly source: string;
  /** The container path it is bound at. */
  readonly target: string;
  readonly rw: boolean;
}

/**
 * The volumes and binds (berthd's /etc/hostname, /etc/hosts and /etc/resolv.conf, a user's
 * `-v /host/file:/etc/x`, named volumes, directory binds) strictly below container directory
 * `dirAbs`, innermost first. The container sees them, not what lies under them in the rootfs:
 * an extraction into `dirAbs` must write their entries into their sources, as Docker's cp does
 * in its private mount namespace with the mounts bound on the rootfs. Tmpfs mounts have no host
 * source: Docker's view does not bind them either, so their entries go to the rootfs.
 */
async function mountsBelow(view: ContainerFs, dirAbs: string): Promise<MountBelow[]> {
  const out: MountBelow[] = [];
  const prefix = dirAbs === '/' ? '/' : `${dirAbs}/`;
  for (const m of view.mounts ?? []) {
    if (m.Type === 'tmpfs' || m.Source === '') continue;
    const target = path.posix.join('/', m.Destination).replace(/(.)\/+$/, '$1');
    const key = target.slice(prefix.length);
    // The first mount on a destination wins, as in locateInMounts.
    if (!target.startsWith(prefix) || key === '' || out.some((b) => b.key === key)) continue;
    const st = await fsp.stat(m.Source).catch(() => undefined);
    if (st?.isFile() || st?.isDirectory())
      out.push({ key, kind: st.isFile() ? 'file' : 'dir', source: m.Source, target, rw: m.RW });
  }
  return out.sort((a, b) => b.key.length - a.key.length);
}

function readOnlyMount(m: MountBelow, p: string): ForbiddenError {
  return new ForbiddenError(
    'MOUNT_READ_ONLY',
    `mounted volume ${m.target} is marked read-only: cannot copy into ${p}`,
  );
}

/**
 * Untars what was staged for a directory mount into the mount's source: a second pass of the
 * same extraction code, with the mount's source as its root, so nothing is written through a
 * symlink already in the mount and no `..` climbs out of it (archive/apply.ts).
 */
async function intoDirMount(
  dest: string,
  stage: string,
  m: MountBelow,
  p: string,
  o: ExtractOptions,
): Promise<void> {
  const st = await fsp.lstat(path.join(dest, stage)).catch(() => undefined);
  if (!st) return;
  if (!st.isDirectory())
    throw new InvalidArgumentError(
      'EXTRACT_OVER_MOUNT',
      `cannot copy into ${p}: ${m.target} is a directory mounted into the container; only a directory can go there`,
    );
  try {
    await applyLayer(packPath(dest, stage, { rebase: '.' }), m.source, {
      whiteouts: false,
      owner: 'keep', // the first pass already gave the entries their owner
      noOverwriteDirNonDir: o.noOverwriteDirNonDir,
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (err) {
    // Its entry names are relative to the mount: say which one.
    if (err instanceof Error) err.message = `in ${m.target} (mounted into the container): ${err.message}`;
    throw err;
  }
}

/**
 * Copies a staged entry's content into the bind's source (the caller removes the staged entry).
 * Written in place, not renamed over: the container's mount holds the source's inode, which a
 * rename would leave behind (as `mv` over /etc/hosts fails in a container while `cat >` works).
 */
async function intoFileBind(staged: string, bind: MountBelow, p: string): Promise<void> {
  const st = await fsp.lstat(staged).catch(() => undefined);
  if (!st) return;
  if (!st.isFile())
    throw new InvalidArgumentError(
      'EXTRACT_OVER_FILE_BIND',
      `cannot copy into ${p}: ${bind.target} is a file bound into the container; only a regular file can replace it`,
    );
  if (!bind.rw)
    throw new ForbiddenError(
      'MOUNT_READ_ONLY',
      `mounted file ${bind.target} is marked read-only: cannot copy into ${p}`,
    );
  await fsp.copyFile(staged, bind.source);
  await fsp.chmod(bind.source, st.mode & 0o7777);
}
