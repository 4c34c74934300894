// Garbage collection for the registry server: mark every blob a manifest (or an index's
// manifests) in any repository refers to, then sweep the rest. Safe while serving: blobs
// younger than the grace period are kept (a push uploads blobs before its manifest), and a
// manifest put in the meantime only adds references to blobs that are that young.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DIGEST_RE, type Digest, type RegistryStorage } from './storage.ts';

export interface GcResult {
  readonly kept: number;
  readonly removed: Digest[];
  readonly bytesFreed: number;
}

export async function collectRegistryGarbage(
  st: RegistryStorage,
  opts: { graceMs?: number; dryRun?: boolean; now?: number } = {},
): Promise<GcResult> {
  const grace = opts.graceMs ?? 10 * 60_000;
  const now = opts.now ?? Date.now();
  const marked = new Set<string>();
  const visit = async (d: Digest) => {
    if (marked.has(d)) return;
    marked.add(d);
    const bytes = await st.readManifest(d).catch(() => undefined);
    if (!bytes) return;
    let m: {
      config?: { digest?: string };
      layers?: { digest?: string }[];
      manifests?: { digest?: string }[];
    };
    try {
      m = JSON.parse(bytes.toString('utf8')) as typeof m;
    } catch {
      return;
    }
    for (const ref of [m.config?.digest, ...(m.layers ?? []).map((l) => l.digest)]) {
      if (ref && DIGEST_RE.test(ref)) marked.add(ref);
    }
    for (const child of m.manifests ?? [])
      if (child.digest && DIGEST_RE.test(child.digest)) await visit(child.digest as Digest);
  };
  for (const repo of await st.catalog()) {
    for (const d of await st.manifestDigests(repo)) await visit(d);
  }
  const removed: Digest[] = [];
  let bytesFreed = 0;
  let kept = 0;
  const dir = path.join(st.root, 'blobs/sha256');
  for (const hex of await fsp.readdir(dir)) {
    if (!/^[a-f0-9]{64}$/.test(hex)) continue;
    const d = `sha256:${hex}` as Digest;
    const info = await fsp.stat(path.join(dir, hex)).catch(() => undefined);
    if (!info) continue;
    if (marked.has(d) || now - info.mtimeMs < grace) {
      kept++;
      continue;
    }
    removed.push(d);
    bytesFreed += info.size;
    if (!opts.dryRun) await fsp.rm(path.join(dir, hex), { force: true });
  }
  return { kept, removed, bytesFreed };
}
