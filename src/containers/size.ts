// A container's sizes as `ps -s`, `inspect -s` and `system df` show them: SizeRw is what its
// writable layer holds (the overlay upper dir), SizeRootFs that plus its image.
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** Bytes of regular files and symlinks under `dir` (0 when it does not exist); no links followed. */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    const entries = await fsp.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile() || e.isSymbolicLink())
        total += (await fsp.lstat(p).catch(() => undefined))?.size ?? 0;
    }
  }
  return total;
}
