// `docker update`: which of the request's fields change a container's settings.
import type { ResourceFields } from '../runtime/index.ts';
import { UPDATABLE_FIELDS } from '../runtime/index.ts';
import type { HostConfig } from './record.ts';
import { checkRestartPolicy } from './restart.ts';

/** The host config after an update body: the resource limits and restart policy it sets. */
export function mergeUpdate(hostConfig: HostConfig, changes: ResourceFields): ResourceFields {
  const patch: Record<string, unknown> = {};
  for (const k of UPDATABLE_FIELDS) {
    const v = (changes as Record<string, unknown>)[k];
    // Docker's client sends zero for every flag not given: zero means "leave as is".
    if (v !== undefined && v !== null && v !== 0 && v !== '') patch[k] = v;
  }
  // The update body also carries a restart policy (Docker's UpdateConfig); an empty name
  // means "leave as is", as Docker's client sends one with every update.
  const rp = (changes as { RestartPolicy?: { Name?: unknown } }).RestartPolicy;
  if (rp && typeof rp === 'object' && rp.Name !== undefined && rp.Name !== '') {
    checkRestartPolicy({ ...hostConfig, RestartPolicy: rp } as HostConfig);
    patch.RestartPolicy = rp;
  }
  const merged = { ...hostConfig, ...patch } as ResourceFields;
  // A new memory limit above the old swap total drops the derived swap, as Docker does.
  if (patch.Memory !== undefined && patch.MemorySwap === undefined && (merged.MemorySwap ?? 0) > 0) {
    if ((merged.MemorySwap ?? 0) < (merged.Memory ?? 0)) merged.MemorySwap = 0;
  }
  return merged;
}
