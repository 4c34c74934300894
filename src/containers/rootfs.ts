// Paths inside a container's root filesystem resolved the way a process inside it would see
// them: symlinks are followed within the rootfs and `..` never climbs above it, so a hostile
// image cannot make berthd touch host paths. The walk is src/pathsafe's; reads and mkdir go
// through its fd-walking operations because a running container (exec) can swap a directory
// for a symlink while berthd looks at it.
import {
  type MkdirResult,
  mkdirAllInRoot,
  readFileInRoot,
  resolveInRoot as resolvePath,
} from '../pathsafe/index.ts';

/** Host path of container path `unsafe` (every component followed inside the rootfs). */
export async function resolveInRoot(root: string, unsafe: string): Promise<string> {
  return (await resolvePath(root, unsafe, { scope: 'the container' })).abs;
}

/** `mkdir -p` of a container path, confined to the rootfs. */
export async function mkdirInRoot(
  root: string,
  p: string,
  mode = 0o755,
  owner?: { uid: number; gid: number },
): Promise<MkdirResult> {
  return mkdirAllInRoot(root, p, { mode, scope: 'the container', ...(owner ? { owner } : {}) });
}

/** Reads a small file of the container (e.g. /etc/passwd); undefined when absent. */
export async function readInRoot(root: string, p: string): Promise<string | undefined> {
  try {
    return (await readFileInRoot(root, p, { maxBytes: 4 << 20, scope: 'the container' }))?.toString('utf8');
  } catch {
    return undefined;
  }
}
