// Who holds a container's root filesystem besides the container itself: filesystem operations
// (cp, export) keep it mounted while they run, and may hold a running container frozen.

/**
 * Filesystem operations (cp, export) in progress, by container directory: while any runs, the
 * rootfs stays mounted (start reuses the mount, exit leaves it to the last operation).
 */
const rootfsUsers = new Map<string, number>();

export function rootfsBusy(dir: string): boolean {
  return (rootfsUsers.get(dir) ?? 0) > 0;
}

/** Counts one more user of the rootfs; returns how many there are now. */
export function acquireRootfs(dir: string): number {
  const n = (rootfsUsers.get(dir) ?? 0) + 1;
  rootfsUsers.set(dir, n);
  return n;
}

/** Counts one user less; returns how many remain. */
export function releaseRootfs(dir: string): number {
  const n = (rootfsUsers.get(dir) ?? 1) - 1;
  if (n <= 0) rootfsUsers.delete(dir);
  else rootfsUsers.set(dir, n);
  return Math.max(n, 0);
}

/** Freezes per container: the first one pauses the container, the last one resumes it. */
export class Freezers {
  readonly #count = new Map<string, number>();

  async enter(id: string, pause: () => Promise<void>): Promise<void> {
    const n = (this.#count.get(id) ?? 0) + 1;
    this.#count.set(id, n);
    if (n === 1) await pause().catch(() => this.#count.delete(id));
  }

  async leave(id: string, resume: () => Promise<void>): Promise<void> {
    const n = (this.#count.get(id) ?? 1) - 1;
    if (n > 0) {
      this.#count.set(id, n);
      return;
    }
    this.#count.delete(id);
    await resume().catch(() => {});
  }
}
