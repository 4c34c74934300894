// Filesystem access to a container's root filesystem (cp, export, commit's diff): the live
// mount of a running container, else a temporary one kept while any operation holds it.
import { crashPoint } from '../base/crashpoint.ts';
import type { KeyedMutex } from '../base/lock.ts';
import { mountRootfs, rootfsPaths, teardownRootfs } from './bundle.ts';
import type { ContainerServiceDeps } from './deps.ts';
import type { ContainerRecord } from './record.ts';
import { acquireRootfs, type Freezers, releaseRootfs } from './rootfs-users.ts';

/** What rootfs access shares with the container service. */
export interface RootfsHost {
  readonly deps: Pick<
    ContainerServiceDeps,
    'store' | 'runtime' | 'images' | 'layers' | 'layersRoot' | 'volumes'
  >;
  /** The service's per-container lock: start and exit handling see the mount count. */
  readonly lock: KeyedMutex;
  readonly freezers: Freezers;
  /** Drops a `daemonPaused` mark from the record. */
  clearDaemonPause(id: string): Promise<void>;
}

/**
 * Runs `fn` with the container's root filesystem mounted: the live mount of a running
 * container, else a temporary one made here and removed after the last user (cp, export).
 * Start and exit handling respect it (see bundle.ts rootfsBusy).
 */
export async function withRootfs<T>(
  host: RootfsHost,
  id: string,
  fn: (rec: ContainerRecord, root: string) => Promise<T>,
  opts: { freeze?: boolean } = {},
): Promise<T> {
  const dir = host.deps.store.dir(id);
  const live = (r: ContainerRecord | undefined) =>
    r?.state.status === 'running' || r?.state.status === 'paused';
  let frozen = false;
  const rec = await host.lock.run(id, async () => {
    const cur = host.deps.store.find(id);
    if (acquireRootfs(dir) === 1 && !live(cur)) {
      await mountRootfs(host.deps, cur).catch((err) => {
        releaseRootfs(dir);
        throw err;
      });
    }
    // Walking a live rootfs races its processes: one could swap a checked directory for a
    // symlink to the host between our lstat and our open. Frozen processes cannot.
    if (opts.freeze && cur.state.status === 'running') {
      frozen = true;
      // Recorded before the freeze, as commit's pause: a crash while frozen is undone at start.
      await host.freezers.enter(id, async () => {
        await host.deps.store.put({ ...cur, daemonPaused: 'freeze' });
        await host.deps.runtime.pause(id);
        crashPoint('freeze:after-pause');
      });
    }
    return cur;
  });
  try {
    return await fn(rec, rootfsPaths(dir).merged);
  } finally {
    await host.lock.run(id, async () => {
      if (frozen)
        await host.freezers.leave(id, async () => {
          await host.deps.runtime.resume(id);
          await host.clearDaemonPause(id);
        });
      if (releaseRootfs(dir) === 0 && !live(host.deps.store.get(id))) await teardownRootfs(host.deps, rec);
    });
  }
}
