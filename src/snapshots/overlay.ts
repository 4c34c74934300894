// overlayfs mounts for container root filesystems. The lowerdir list uses the short `l/<id>`
// links relative to the layers root (mount runs with that as its working directory) so the
// option string stays far below the kernel's one-page limit even with 100+ layers.
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import { InternalError } from '../errdefs/index.ts';

const run = promisify(execFile);

export interface OverlayMount {
  /** Relative to `layersRoot`, topmost first (from LayerSnapshots.lowerDirs). */
  readonly lower: readonly string[];
  readonly layersRoot: string;
  readonly upper: string;
  readonly work: string;
  readonly target: string;
}

export async function mountOverlay(m: OverlayMount): Promise<void> {
  await Promise.all([m.upper, m.work, m.target].map((d) => fsp.mkdir(d, { recursive: true })));
  // An image with no layers (scratch + nothing) still needs a lower dir.
  const lower = m.lower.length > 0 ? m.lower.join(':') : await emptyLower(m.layersRoot);
  const opts = `lowerdir=${lower},upperdir=${m.upper},workdir=${m.work}`;
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, m.target], { cwd: m.layersRoot });
  } catch (err) {
    throw new InternalError(
      'MOUNT_FAILED',
      `could not mount the container filesystem at ${m.target}: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`,
    );
  }
}

async function emptyLower(layersRoot: string): Promise<string> {
  const dir = `${layersRoot}/empty`;
  await fsp.mkdir(dir, { recursive: true });
  return 'empty';
}

export async function isMounted(target: string): Promise<boolean> {
  const mounts = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((l) => l.split(' ')[4] === target);
}

/** Unmounts if mounted; a lazy detach as last resort so a busy mount never blocks removal. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMounted(target))) return;
  try {
    await run('umount', [target]);
  } catch {
    await run('umount', ['-l', target]).catch(() => {});
  }
}
