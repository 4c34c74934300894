// `docker image prune`: dangling images (no names), or with `all` every image no container uses.
import { InvalidArgumentError } from '../errdefs/index.ts';
import type { DeleteRecord, ImageUsers } from './delete.ts';
import { deleteImage } from './delete.ts';
import type { ImageService } from './service.ts';

export interface PruneFilters {
  readonly dangling?: boolean;
  /** Keep images created after this time (ms since epoch). */
  readonly until?: number;
  /** `key` or `key=value`; `label!=` negates. */
  readonly label?: readonly string[];
  readonly labelNot?: readonly string[];
}

export async function pruneImages(
  svc: ImageService,
  filters: PruneFilters,
  users?: ImageUsers,
): Promise<{ deleted: DeleteRecord[]; spaceReclaimed: number }> {
  const deleted: DeleteRecord[] = [];
  let spaceReclaimed = 0;
  const danglingOnly = filters.dangling !== false;
  for (const view of await svc.list()) {
    const named = view.repoTags.length > 0;
    if (view.record.intermediate) continue; // build cache: `builder prune` removes it
    if (danglingOnly && named) continue;
    if (users && users(view.id).length > 0) continue;
    const created = Date.parse(view.config.created ?? view.record.added);
    if (filters.until !== undefined && !(created < filters.until)) continue;
    const labels = view.config.config?.Labels ?? {};
    if (filters.label && !filters.label.every((l) => labelMatches(labels, l))) continue;
    if (filters.labelNot?.some((l) => labelMatches(labels, l))) continue;
    if (!svc.deps.meta.get(view.id)) continue; // removed with an earlier one
    try {
      const recs = await deleteImage(svc, view.id.slice(7), { force: false });
      deleted.push(...recs);
      spaceReclaimed += view.size;
    } catch (err) {
      svc.deps.log('debug', 'prune skipped image', { id: view.id, err: String(err) });
    }
  }
  return { deleted, spaceReclaimed };
}

export function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq === -1) return Object.hasOwn(labels, filter);
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** Docker's `until` filter value: RFC 3339 time, Unix seconds, or a Go duration before now. */
export function parseUntil(value: string, now = Date.now()): number {
  const dur = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(value);
  if (dur) {
    const mult: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
    return now - Number(dur[1]) * mult[dur[2]!]!;
  }
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (Number.isNaN(t)) {
    throw new InvalidArgumentError(
      'INVALID_FILTER',
      `invalid filter 'until=${value}': use a timestamp (2006-01-02T15:04:05), Unix seconds or a duration (10m, 24h)`,
    );
  }
  return t;
}
