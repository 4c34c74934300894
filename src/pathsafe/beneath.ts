// Paths below a root taken literally, with no symlink followed at all (openat2's
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). For trees berthd reads as data rather than as a
// filesystem a process sees: an overlay upper dir or a layer, where a symlink is an entry of
// the tree and a path through it names nothing.
import type { Stats } from 'node:fs';
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../errdefs/index.ts';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;

/**
 * The components of a relative or container path, `..` applied lexically (clamped at the root:
 * nothing here is a link that `..` could mean to leave).
 */
function components(rel: string): string[] {
  return path.posix
    .normalize(`/${rel}`)
    .split('/')
    .filter((c) => c !== '' && c !== '.');
}

/**
 * lstat of `rel` below `root` when every directory on the way is a real directory (not a
 * symlink); undefined otherwise or when nothing is there.
 */
export async function lstatBeneath(root: string, rel: string): Promise<Stats | undefined> {
  const parts = components(rel);
  let at = path.resolve(root);
  for (let i = 0; i < parts.length; i++) {
    at = path.join(at, parts[i]!);
    const st = await fsp.lstat(at).catch(() => undefined);
    if (st === undefined) return undefined;
    if (i === parts.length - 1) return st;
    if (!st.isDirectory()) return undefined;
  }
  return fsp.lstat(at).catch(() => undefined);
}

/**
 * `rm -rf` of `rel` below `root`, reaching it through directory fds opened with O_NOFOLLOW so
 * that a symlinked parent (even one swapped in meanwhile) makes it a no-op rather than a
 * removal elsewhere. Answers whether something was removed.
 */
export async function removeBeneath(root: string, rel: string): Promise<boolean> {
  const parts = components(rel);
  if (parts.length === 0)
    throw new InvalidArgumentError('PATH_IS_ROOT', 'refusing to remove the root itself');
  let fh = await fsp.open(path.resolve(root), O_RDONLY | O_DIRECTORY);
  try {
    for (const part of parts.slice(0, -1)) {
      let next: fsp.FileHandle;
      try {
        next = await fsp.open(`/proc/self/fd/${fh.fd}/${part}`, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      } catch {
        return false; // missing, not a directory or a symlink: the path names nothing here
      }
      await fh.close();
      fh = next;
    }
    const target = `/proc/self/fd/${fh.fd}/${parts.at(-1)}`;
    if ((await fsp.lstat(target).catch(() => undefined)) === undefined) return false;
    // rm does not follow symlinks inside the tree; the fd keeps the parent pinned.
    await fsp.rm(target, { recursive: true, force: true });
    return true;
  } finally {
    await fh.close().catch(() => {});
  }
}
