// Waiters on a container's state (`docker wait`, and the stop, kill and removal paths): told of
// every record write and of the removal.
import type { ContainerRecord } from './record.ts';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

type Listener = (rec: ContainerRecord | undefined) => void;

export class ContainerWaiters {
  readonly #listeners = new Map<string, Set<Listener>>();

  /** A record was written (`rec`) or removed (undefined). */
  notify(id: string, rec: ContainerRecord | undefined): void {
    for (const l of this.#listeners.get(id) ?? []) l(rec);
  }

  /** The container is gone: drops its waiters' set. */
  forget(id: string): void {
    this.#listeners.delete(id);
  }

  /** Resolves when the condition holds for `rec`'s container; returns the exit code Docker reports. */
  wait(
    rec: ContainerRecord,
    condition: WaitCondition,
    signal?: AbortSignal,
  ): Promise<{ code: number; error: string }> {
    const codeOf = (r: ContainerRecord | undefined) =>
      r?.state.status === 'exited'
        ? { code: r.state.exitCode, error: r.state.error }
        : { code: 0, error: '' };
    const running = (r: ContainerRecord) => r.state.status === 'running' || r.state.status === 'paused';
    if (condition === 'not-running' && !running(rec)) return Promise.resolve(codeOf(rec));
    let last = rec;
    return new Promise((resolve, reject) => {
      const set = this.#listeners.get(rec.id) ?? new Set<Listener>();
      this.#listeners.set(rec.id, set);
      const done = (v: { code: number; error: string }) => {
        set.delete(listener);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      // A waiter told of an exit (or removal) that came after it registered gets no Error, as
      // from Docker (its stop and removal notifications carry none): only a container already
      // stopped by a failed start reports that error. Otherwise `docker run --rm` of a missing
      // command printed "Error waiting for container" besides the start's own error.
      const later = (r: ContainerRecord | undefined) => ({ ...codeOf(r), error: '' });
      const listener: Listener = (r) => {
        if (r === undefined) return done(later(last));
        last = r;
        if (condition !== 'removed' && r.state.status === 'exited') done(later(r));
      };
      const onAbort = () => {
        set.delete(listener);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(listener);
    });
  }
}
