// In-root resolution: a user path is walked one component at a time under a root, with the
// root acting as `/` for everything met on the way (openat2 RESOLVE_IN_ROOT semantics):
// `..` is applied to the path resolved so far and never climbs above the root, a symlink is
// read and its target walked in place of it (an absolute target restarts at the root), and
// more than MAX_SYMLINKS links in one walk fail with ELOOP as the kernel does.
//
// The walk is written once, as a generator that asks for lstat/readlink results, so the sync
// driver (the build context's checksums) and the async driver (the daemon's request paths)
// cannot drift apart.
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../errdefs/index.ts';

/** Linux's limit on symlinks followed in one lookup (ELOOP beyond it). */
export const MAX_SYMLINKS = 40;

export interface ResolveOptions {
  /** Follow a symlink in the last component (default true). A trailing `/` always follows. */
  readonly followFinal?: boolean;
  /** What the root is, for error messages: "the build context", "container abc". */
  readonly scope?: string;
}

export interface Resolved {
  /** The resolved path relative to the root, clean, no `..`, `.` for the root itself. */
  readonly rel: string;
  /** Host path of `rel` under the root. */
  readonly abs: string;
  /** lstat of `abs`; undefined when nothing exists there. */
  readonly stat: fs.Stats | undefined;
}

/**
 * A user path as a clean path relative to the root, lexically (`/../a/./b/` → `a/b`, `..` →
 * `.`). Only for names that are not looked up on disk (patterns, cache ids); anything that is
 * looked up goes through `resolveInRoot`, which applies `..` after symlinks.
 */
export function cleanRelative(p: string): string {
  const c = path.posix.normalize(`/${p}`).replace(/\/+$/, '');
  return c === '' ? '.' : c.slice(1) || '.';
}

type Ask = { op: 'lstat'; path: string } | { op: 'readlink'; path: string };

function* walk(
  root: string,
  unsafe: string,
  opts: ResolveOptions,
): Generator<Ask, Resolved, fs.Stats | string | undefined> {
  if (unsafe.includes('\0')) {
    throw new InvalidArgumentError('PATH_INVALID', `path ${JSON.stringify(unsafe)} contains a NUL byte`);
  }
  const followFinal = opts.followFinal ?? true;
  // Empty and `.` parts stay in the queue so that a trailing `/` or `/.` counts as "more to
  // come" and forces the last link to be followed, as the kernel does.
  const pending = unsafe.split('/');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const abs = path.join(root, ...done, part);
    const st = (yield { op: 'lstat', path: abs }) as fs.Stats | undefined;
    if (st?.isSymbolicLink() && (pending.length > 0 || followFinal)) {
      if (++hops > MAX_SYMLINKS) {
        throw new InvalidArgumentError(
          'PATH_SYMLINK_LOOP',
          `too many levels of symbolic links resolving ${JSON.stringify(unsafe)} in ${opts.scope ?? 'its root'}: remove the symlink loop`,
        );
      }
      const target = (yield { op: 'readlink', path: abs }) as string | undefined;
      if (target === undefined) {
        // No longer a link (changed since the lstat): look at it again; `hops` bounds this.
        pending.unshift(part);
        continue;
      }
      if (target !== '') {
        if (target.startsWith('/')) done.length = 0;
        pending.unshift(...target.split('/'));
        continue;
      }
      // An empty link target names nothing (ENOENT for the kernel): keep the name, unresolved.
    }
    done.push(part);
  }
  const rel = done.length === 0 ? '.' : done.join('/');
  const abs = done.length === 0 ? root : path.join(root, ...done);
  return { rel, abs, stat: (yield { op: 'lstat', path: abs }) as fs.Stats | undefined };
}

/** Resolves `unsafe` inside `root` (synchronously: for short, bounded walks off request paths). */
export function resolveInRootSync(root: string, unsafe: string, opts: ResolveOptions = {}): Resolved {
  const g = walk(path.resolve(root), unsafe, opts);
  let answer: fs.Stats | string | undefined;
  for (;;) {
    const r = g.next(answer);
    if (r.done) return r.value;
    answer =
      r.value.op === 'lstat' ? lstatOrUndefinedSync(r.value.path) : readlinkOrUndefinedSync(r.value.path);
  }
}

function missing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENAMETOOLONG') {
    throw new InvalidArgumentError(
      'PATH_TOO_LONG',
      // Not the host path: that would name the daemon's data root.
      'a path component is longer than the filesystem allows (255 bytes)',
    );
  }
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function lstatOrUndefinedSync(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
}

/** A link's target; undefined when it stopped being a link since it was looked at. */
function readlinkOrUndefinedSync(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch (err) {
    if (missing(err) || (err as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
    throw err;
  }
}

async function readlinkOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fsp.readlink(p);
  } catch (err) {
    if (missing(err) || (err as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
    throw err;
  }
}

async function lstatOrUndefined(p: string): Promise<fs.Stats | undefined> {
  try {
    return await fsp.lstat(p);
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
}

/** Resolves `unsafe` inside `root`. */
export async function resolveInRoot(
  root: string,
  unsafe: string,
  opts: ResolveOptions = {},
): Promise<Resolved> {
  const g = walk(path.resolve(root), unsafe, opts);
  let answer: fs.Stats | string | undefined;
  for (;;) {
    const r = g.next(answer);
    if (r.done) return r.value;
    answer =
      r.value.op === 'lstat' ? await lstatOrUndefined(r.value.path) : await readlinkOrUndefined(r.value.path);
  }
}
