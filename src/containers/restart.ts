// Restart policies (`--restart no|on-failure[:max]|always|unless-stopped`): the pure decision
// of whether an exit restarts the container, Docker's growing back-off, and the timers that
// carry restarts out. A stop or kill by the user ends restarts (and, for unless-stopped, also
// the restart at daemon start-up).
import { InvalidArgumentError } from '../errdefs/index.ts';
import type { HostConfig } from './record.ts';

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export interface RestartPolicy {
  readonly Name: RestartPolicyName;
  readonly MaximumRetryCount: number;
}

const NAMES = new Set(['', 'no', 'on-failure', 'always', 'unless-stopped']);

/** The container's policy (absent or empty means `no`). */
export function restartPolicy(h: HostConfig): RestartPolicy {
  const p = h.RestartPolicy as { Name?: string; MaximumRetryCount?: number } | undefined;
  const name = (p?.Name || 'no') as RestartPolicyName;
  return { Name: name, MaximumRetryCount: p?.MaximumRetryCount ?? 0 };
}

/** Docker's validation at create (its texts); throws a 400-class error naming the problem. */
export function checkRestartPolicy(h: HostConfig): void {
  const p = h.RestartPolicy as { Name?: unknown; MaximumRetryCount?: unknown } | undefined;
  if (p === undefined || p === null) return;
  const name = p.Name ?? '';
  if (typeof name !== 'string' || !NAMES.has(name)) {
    throw new InvalidArgumentError(
      'INVALID_RESTART_POLICY',
      `invalid restart policy: unknown policy '${String(name)}'; use one of 'no', 'always', 'unless-stopped', or 'on-failure'`,
    );
  }
  const max = p.MaximumRetryCount ?? 0;
  if (typeof max !== 'number' || !Number.isInteger(max)) {
    throw new InvalidArgumentError(
      'INVALID_RESTART_POLICY',
      'invalid restart policy: maximum retry count must be a whole number',
    );
  }
  if (name === 'on-failure' && max < 0) {
    throw new InvalidArgumentError(
      'INVALID_RESTART_POLICY',
      'invalid restart policy: maximum retry count cannot be negative',
    );
  }
  // Docker lets an empty name carry any count (what clients before v25 sent by default).
  if (max !== 0 && name !== 'on-failure' && name !== '') {
    throw new InvalidArgumentError(
      'INVALID_RESTART_POLICY',
      `invalid restart policy: maximum retry count can only be used with 'on-failure'`,
    );
  }
  if (h.AutoRemove && name !== '' && name !== 'no') {
    throw new InvalidArgumentError(
      'CONFLICTING_OPTIONS',
      'Conflicting options: --restart and --rm: a container that removes itself cannot be restarted',
    );
  }
}

/** Whether an exit restarts the container. */
export function shouldRestart(
  p: RestartPolicy,
  exitCode: number,
  restartCount: number,
  stoppedByUser: boolean,
): boolean {
  if (stoppedByUser) return false;
  switch (p.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return exitCode !== 0 && (p.MaximumRetryCount === 0 || restartCount < p.MaximumRetryCount);
    default:
      return false;
  }
}

/** Docker's back-off: 100 ms doubling per restart, at most a minute; reset after 10 s of running. */
export function restartDelayMs(previousDelayMs: number, ranMs: number): number {
  if (ranMs >= 10_000 || previousDelayMs <= 0) return 100;
  return Math.min(60_000, previousDelayMs * 2);
}

/** Whether the daemon starts the container again when it comes up. */
export function restartsAtDaemonStart(p: RestartPolicy, stoppedByUser: boolean): boolean {
  return p.Name === 'always' || (p.Name === 'unless-stopped' && !stoppedByUser);
}

/** Pending restarts, one timer per container, cancellable by stop/kill/rm/start. */
export class RestartTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #delays = new Map<string, number>();

  schedule(id: string, ranMs: number, run: () => void): number {
    this.cancel(id);
    const delay = restartDelayMs(this.#delays.get(id) ?? 0, ranMs);
    this.#delays.set(id, delay);
    const t = setTimeout(() => {
      this.#timers.delete(id);
      run();
    }, delay);
    t.unref();
    this.#timers.set(id, t);
    return delay;
  }

  pending(id: string): boolean {
    return this.#timers.has(id);
  }

  cancel(id: string): void {
    const t = this.#timers.get(id);
    if (t) clearTimeout(t);
    this.#timers.delete(id);
  }

  forget(id: string): void {
    this.cancel(id);
    this.#delays.delete(id);
  }

  close(): void {
    for (const id of [...this.#timers.keys()]) this.cancel(id);
  }
}
