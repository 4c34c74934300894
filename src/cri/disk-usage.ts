// Bytes and inodes used under some directories, counted as `du` counts them (allocated blocks,
// each inode once however many hard links it has), as containerd measures its snapshot store.
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export interface DiskUsage {
  readonly bytes: number;
  readonly inodes: number;
}

export async function diskUsage(roots: readonly string[]): Promise<DiskUsage> {
  const seen = new Set<string>();
  let bytes = 0;
  const walk = async (p: string): Promise<void> => {
    // A file removed while we walk (a layer being deleted) is simply not counted.
    const st = await fsp.lstat(p, { bigint: true }).catch(() => undefined);
    if (!st) return;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    bytes += Number(st.blocks) * 512;
    if (!st.isDirectory()) return;
    const names = await fsp.readdir(p).catch(() => [] as string[]);
    // Bounded fan-out: a layer of 100k files must not open 100k handles at once.
    for (let i = 0; i < names.length; i += 64)
      await Promise.all(names.slice(i, i + 64).map((n) => walk(path.join(p, n))));
  };
  for (const r of roots) await walk(r);
  return { bytes, inodes: seen.size };
}
