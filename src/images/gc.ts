// Garbage collection: removes layers and blobs no image references. Runs under the service's
// exclusive lock so it never races an ingest that has written content but not yet named it.
import { chainIds, type Digest, digestHex } from '../oci/digest.ts';
import type { ImageService } from './service.ts';

export interface GcResult {
  readonly layers: number;
  readonly blobs: number;
  readonly bytes: number;
  /** Chain ID hex of every layer removed. */
  readonly removedLayers: string[];
}

export async function collectGarbage(svc: ImageService): Promise<GcResult> {
  const { meta, layers, content, log } = svc.deps;
  const liveLayers = new Set<string>();
  const liveBlobs = new Set<Digest>();
  for (const rec of meta.all()) {
    liveBlobs.add(rec.id);
    const cfg = await svc.config(rec.id).catch(() => undefined);
    if (!cfg) continue;
    for (const d of cfg.rootfs.diff_ids) liveBlobs.add(d);
    for (const c of chainIds(cfg.rootfs.diff_ids)) liveLayers.add(digestHex(c));
  }
  for (const [name] of meta.refs()) {
    const at = name.indexOf('@');
    if (at !== -1) liveBlobs.add(name.slice(at + 1) as Digest);
  }
  let nLayers = 0;
  const removedLayers: string[] = [];
  let bytes = 0;
  // Children before parents is not required: layer directories are independent on disk.
  for (const m of await layers.list()) {
    if (liveLayers.has(m.name)) continue;
    await layers.remove(m.name);
    bytes += m.size;
    removedLayers.push(m.name);
    nLayers++;
  }
  let nBlobs = 0;
  for (const d of await content.list()) {
    if (liveBlobs.has(d)) continue;
    await content.delete(d);
    nBlobs++;
  }
  if (nLayers + nBlobs > 0) log('debug', 'garbage collected', { layers: nLayers, blobs: nBlobs });
  return { layers: nLayers, blobs: nBlobs, bytes, removedLayers };
}
