// Race-safe access under a root that someone else may be changing (a running container's
// rootfs). `resolveInRoot` answers with a host path, but a component checked as a directory
// can be swapped for a symlink before the path is used. Here every component of the resolved
// path is opened relative to the directory opened before it (`/proc/self/fd/N/name` is
// openat(N, name)) with O_NOFOLLOW, so a swap makes the open fail instead of following the
// link out; the walk is then redone from scratch a few times and finally refused. The fd got
// is checked once more through its /proc/self/fd link, so a bug here cannot go unnoticed.
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  ConflictError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
} from '../errdefs/index.ts';
import { type Resolved, type ResolveOptions, resolveInRoot } from './resolve.ts';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_WRONLY, O_CREAT, O_TRUNC, O_NONBLOCK } = fs.constants;

/** Walks redone after a concurrent change before giving up. */
const ATTEMPTS = 4;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

function fdPath(fh: fsp.FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fh.fd}` : `/proc/self/fd/${fh.fd}/${name}`;
}

function raced(root: string, unsafe: string, scope: string | undefined): ConflictError {
  return new ConflictError(
    'PATH_RACE',
    `${JSON.stringify(unsafe)} in ${scope ?? path.basename(root)} kept changing while it was resolved (a directory was swapped for a symlink): retry when it is not being modified`,
  );
}

/** Fails unless the open file `fh` is `rootReal` or below it. */
export async function assertFdInRoot(rootReal: string, fh: fsp.FileHandle): Promise<void> {
  const where = await fsp.readlink(fdPath(fh));
  if (where !== rootReal && !where.startsWith(rootReal === '/' ? '/' : `${rootReal}/`)) {
    throw new InternalError('PATH_ESCAPED', `an in-root open ended outside its root (${where})`);
  }
}

/** Opens the directory `rel` (clean, symlink-free) under `root`, one component at a time. */
async function openDirChain(root: string, parts: readonly string[]): Promise<fsp.FileHandle> {
  let fh = await fsp.open(root, O_RDONLY | O_DIRECTORY);
  try {
    for (const part of parts) {
      const next = await fsp.open(fdPath(fh, part), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      await fh.close();
      fh = next;
    }
    return fh;
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
}

/**
 * After an ENOTDIR: true when it is real, i.e. a component that must be a directory is a file
 * (neither a directory nor a link that a concurrent swap could have put there).
 */
async function fileInTheWay(root: string, parts: readonly string[], flags: number): Promise<boolean> {
  const mustBeDirs = flags & O_DIRECTORY ? parts.length : parts.length - 1;
  let at = root;
  for (let i = 0; i < mustBeDirs; i++) {
    at = path.join(at, parts[i]!);
    const st = await fsp.lstat(at).catch(() => undefined);
    if (st === undefined || st.isSymbolicLink()) return false;
    if (!st.isDirectory()) return true;
  }
  return false;
}

function partsOf(rel: string): string[] {
  return rel === '.' ? [] : rel.split('/');
}

export interface OpenOptions extends ResolveOptions {
  /** open(2) flags (numeric); O_NOFOLLOW is always added. Default O_RDONLY. */
  readonly flags?: number;
  readonly mode?: number;
}

export interface Opened {
  readonly handle: fsp.FileHandle;
  readonly resolved: Resolved;
}

/**
 * Opens `unsafe` resolved inside `root`. Rejects with ELOOP-coded InvalidArgument when the
 * final component is a symlink and `followFinal` is false, with PATH_RACE when the path kept
 * changing, and with the open's own errno error (ENOENT, EISDIR, ...) otherwise.
 */
export async function openInRoot(root: string, unsafe: string, opts: OpenOptions = {}): Promise<Opened> {
  const rootAbs = path.resolve(root);
  const rootReal = await fsp.realpath(rootAbs);
  // O_NONBLOCK: the final component may be a FIFO (a container can put one at /etc/passwd).
  // A blocking open of a FIFO waits for the other end forever and takes one of libuv's four
  // pool threads with it; a few such opens and every file operation of the daemon stalls.
  // Non-blocking, the open returns at once (ENXIO for a writer) and callers see the node's type.
  const flags = (opts.flags ?? O_RDONLY) | O_NONBLOCK;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const resolved = await resolveInRoot(rootAbs, unsafe, opts);
    const parts = partsOf(resolved.rel);
    let handle: fsp.FileHandle;
    try {
      if (parts.length === 0) {
        handle = await fsp.open(rootAbs, flags, opts.mode);
      } else {
        const parent = await openDirChain(rootAbs, parts.slice(0, -1));
        try {
          handle = await fsp.open(fdPath(parent, parts.at(-1)), flags | O_NOFOLLOW, opts.mode);
        } finally {
          await parent.close();
        }
      }
    } catch (err) {
      const code = errno(err);
      if (code === 'ELOOP' && opts.followFinal === false && resolved.stat?.isSymbolicLink()) {
        throw new InvalidArgumentError(
          'PATH_IS_SYMLINK',
          `${JSON.stringify(unsafe)} in ${opts.scope ?? 'its root'} is a symbolic link`,
        );
      }
      // A component that resolved as a directory is now a link or gone: walk again.
      if (code === 'ENOTDIR' && (await fileInTheWay(rootAbs, parts, opts.flags ?? O_RDONLY))) throw err;
      if (code === 'ELOOP' || code === 'ENOTDIR' || (code === 'ENOENT' && resolved.stat !== undefined))
        continue;
      throw err;
    }
    try {
      await assertFdInRoot(rootReal, handle);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return { handle, resolved };
  }
  throw raced(rootAbs, unsafe, opts.scope);
}

export interface MkdirOptions {
  readonly mode?: number;
  /** Owner given to each directory this call creates (existing ones are left alone). */
  readonly owner?: { readonly uid: number; readonly gid: number };
  readonly scope?: string;
}

export interface MkdirResult {
  /** Host path of the directory. */
  readonly abs: string;
  readonly rel: string;
  /** Relative paths of the directories this call created, outermost first. */
  readonly created: string[];
}

/** `mkdir -p` of `unsafe` inside `root`: symlinks met are followed inside the root, never out. */
export async function mkdirAllInRoot(
  root: string,
  unsafe: string,
  opts: MkdirOptions = {},
): Promise<MkdirResult> {
  const rootAbs = path.resolve(root);
  const rootReal = await fsp.realpath(rootAbs);
  attempts: for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const resolved = await resolveInRoot(rootAbs, unsafe, opts);
    const parts = partsOf(resolved.rel);
    const created: string[] = [];
    let fh = await fsp.open(rootAbs, O_RDONLY | O_DIRECTORY);
    try {
      for (let i = 0; i < parts.length; i++) {
        const p = fdPath(fh, parts[i]);
        let next: fsp.FileHandle;
        try {
          next = await fsp.open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        } catch (err) {
          const code = errno(err);
          // A link appeared (O_DIRECTORY|O_NOFOLLOW on a link fails ENOTDIR): resolve it again.
          if (code === 'ELOOP') continue attempts;
          if (code === 'ENOTDIR') {
            const now = await fsp.lstat(p).catch(() => undefined);
            if (now === undefined || now.isSymbolicLink() || now.isDirectory()) continue attempts;
          }
          if (code === 'ENOTDIR') {
            throw new FailedPreconditionError(
              'PATH_NOT_DIRECTORY',
              `cannot create directory ${JSON.stringify(unsafe)} in ${opts.scope ?? 'its root'}: /${parts.slice(0, i + 1).join('/')} exists and is not a directory`,
            );
          }
          if (code !== 'ENOENT') throw err;
          // mkdir(2) never follows a final symlink: if one was planted meanwhile it fails EEXIST.
          try {
            await fsp.mkdir(p, { mode: opts.mode ?? 0o755 });
          } catch (e) {
            if (errno(e) === 'EEXIST') continue attempts;
            throw e;
          }
          try {
            next = await fsp.open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
          } catch {
            continue attempts; // swapped right after it was made
          }
          created.push(parts.slice(0, i + 1).join('/'));
          if (opts.owner) await next.chown(opts.owner.uid, opts.owner.gid);
        }
        await fh.close();
        fh = next;
      }
      await assertFdInRoot(rootReal, fh);
      return { abs: resolved.abs, rel: resolved.rel, created };
    } finally {
      await fh.close().catch(() => {});
    }
  }
  throw raced(rootAbs, unsafe, opts.scope);
}

/** Reads a regular file inside `root` (at most `maxBytes`); undefined when absent or not a file. */
export async function readFileInRoot(
  root: string,
  unsafe: string,
  opts: ResolveOptions & { maxBytes?: number } = {},
): Promise<Buffer | undefined> {
  let opened: Opened;
  try {
    opened = await openInRoot(root, unsafe, opts);
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw err;
  }
  const { handle } = opened;
  try {
    const st = await handle.stat();
    const max = opts.maxBytes ?? 4 << 20;
    if (!st.isFile() || st.size > max) return undefined;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Creates or replaces the content of a file inside `root`, never writing through a link out. */
export async function writeFileInRoot(
  root: string,
  unsafe: string,
  data: string | Uint8Array,
  opts: ResolveOptions & { mode?: number } = {},
): Promise<Resolved> {
  const { handle, resolved } = await openInRoot(root, unsafe, {
    ...opts,
    flags: O_WRONLY | O_CREAT | O_TRUNC,
    mode: opts.mode ?? 0o644,
  });
  try {
    await handle.writeFile(data);
    return resolved;
  } finally {
    await handle.close();
  }
}
