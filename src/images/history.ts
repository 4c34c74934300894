// `docker history`: one row per config history entry, newest first; entries that produced a
// layer carry that layer's size.
import type { Digest } from '../oci/digest.ts';
import type { ImageService } from './service.ts';

export interface HistoryRow {
  /** Image ID for the top row, `<missing>` below (Docker has no per-step image IDs for pulled images). */
  readonly id: string;
  readonly created: number;
  readonly createdBy: string;
  readonly tags: string[];
  readonly size: number;
  readonly comment: string;
}

export async function imageHistory(svc: ImageService, id: Digest): Promise<HistoryRow[]> {
  const view = await svc.view(id);
  const history = view.config.history ?? [];
  const rows: HistoryRow[] = [];
  let layerIndex = 0;
  const sizes = await Promise.all(
    view.chain.map(async (c) => (await svc.deps.layers.get(c.slice(7)))?.size ?? 0),
  );
  for (const h of history) {
    let size = 0;
    if (!h.empty_layer) {
      size = sizes[layerIndex] ?? 0;
      layerIndex++;
    }
    rows.push({
      id: '<missing>',
      created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
      createdBy: h.created_by ?? '',
      tags: [],
      size,
      comment: h.comment ?? '',
    });
  }
  rows.reverse();
  if (rows.length > 0) rows[0] = { ...rows[0]!, id, tags: view.repoTags };
  return rows;
}
