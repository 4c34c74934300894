// Paths inside a container's root filesystem resolved the way a process inside it would see
// them: symlinks are followed within the rootfs and `..` never climbs above it, so a hostile
// image cannot make berthd touch host paths (the securejoin idea).
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../errdefs/index.ts';

export async function resolveInRoot(root: string, unsafe: string): Promise<string> {
  const pending = unsafe.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const candidate = path.join(root, ...done, c);
    let st: import('node:fs').Stats | undefined;
    try {
      st = await fsp.lstat(candidate);
    } catch {
      st = undefined;
    }
    if (st?.isSymbolicLink()) {
      if (++hops > 40)
        throw new InvalidArgumentError(
          'SYMLINK_LOOP',
          `too many symlinks resolving ${unsafe} in the container`,
        );
      const target = await fsp.readlink(candidate);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
      continue;
    }
    done.push(c);
  }
  return path.join(root, ...done);
}

/** `mkdir -p` of a container path, confined to the rootfs. */
export async function mkdirInRoot(root: string, p: string, mode = 0o755): Promise<void> {
  const resolved = await resolveInRoot(root, p);
  await fsp.mkdir(resolved, { recursive: true, mode });
}

/** Reads a small file of the container (e.g. /etc/passwd); undefined when absent. */
export async function readInRoot(root: string, p: string): Promise<string | undefined> {
  try {
    const resolved = await resolveInRoot(root, p);
    const st = await fsp.stat(resolved);
    if (!st.isFile() || st.size > 4 << 20) return undefined;
    return await fsp.readFile(resolved, 'utf8');
  } catch {
    return undefined;
  }
}
