// Healthchecks: the image's HEALTHCHECK or the run flags (Config.Healthcheck), probed with an
// exec in the container every Interval, with Docker's defaults (30 s interval, 30 s timeout,
// 3 retries), output cut at 4 KiB, the last 5 results kept, failures during StartPeriod not
// counted, and a `health_status: <status>` event on every change.
import { clampDelay } from '../base/timers.ts';
import type { ContainerRecord } from './record.ts';

export interface HealthcheckConfig {
  Test?: string[];
  Interval?: number; // nanoseconds
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  /** Between probes during StartPeriod while still `starting` (API 1.44). */
  StartInterval?: number;
}

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: HealthLogEntry[];
}

export interface HealthDeps {
  find(id: string): ContainerRecord | undefined;
  save(id: string, health: HealthState): Promise<void>;
  /** Runs `cmd` in the container; resolves with its exit code and combined output. */
  probe(id: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  emit(id: string, status: HealthState['Status']): void;
}

const NS_PER_MS = 1_000_000;
const DEFAULT_MS = 30_000;
const OUTPUT_MAX = 4096;

/** The probe command, or undefined when there is no healthcheck (or it is NONE). */
export function probeCommand(h: HealthcheckConfig | undefined): string[] | undefined {
  const t = h?.Test;
  if (!t || t.length === 0 || t[0] === 'NONE') return undefined;
  if (t[0] === 'CMD') return t.slice(1);
  if (t[0] === 'CMD-SHELL') return ['/bin/sh', '-c', t.slice(1).join(' ')];
  return undefined;
}

/** Applies one probe result to the state (pure). */
export function nextHealth(
  prev: HealthState,
  result: HealthLogEntry,
  retries: number,
  inStartPeriod: boolean,
): HealthState {
  const Log = [...prev.Log, { ...result, Output: result.Output.slice(0, OUTPUT_MAX) }].slice(-5);
  if (result.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log };
  if (inStartPeriod && prev.Status === 'starting') return { ...prev, Log };
  const streak = prev.FailingStreak + 1;
  return { Status: streak >= retries ? 'unhealthy' : prev.Status, FailingStreak: streak, Log };
}

export class HealthMonitor {
  readonly #deps: HealthDeps;
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(deps: HealthDeps) {
    this.#deps = deps;
  }

  /** Starts probing a running container (no-op without a healthcheck). */
  start(id: string): void {
    this.stop(id);
    const rec = this.#deps.find(id);
    const h = rec?.config.Healthcheck as HealthcheckConfig | undefined;
    const cmd = probeCommand(h);
    if (!rec || !cmd) return;
    const interval = h?.Interval ? h.Interval / NS_PER_MS : DEFAULT_MS;
    const timeout = clampDelay(h?.Timeout ? h.Timeout / NS_PER_MS : DEFAULT_MS);
    const retries = h?.Retries && h.Retries > 0 ? h.Retries : 3;
    const startPeriod = h?.StartPeriod ? h.StartPeriod / NS_PER_MS : 0;
    const startInterval = h?.StartInterval ? h.StartInterval / NS_PER_MS : interval;
    const startedAt = Date.now();
    // In the start period, until the first success, probes come every StartInterval (as Docker).
    const next = () =>
      state.Status === 'starting' && Date.now() - startedAt < startPeriod ? startInterval : interval;
    let state: HealthState = rec.health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    const tick = async () => {
      const start = new Date();
      const r = await this.#deps.probe(id, cmd, timeout).catch((err: unknown) => ({
        exitCode: -1,
        output: String((err as Error)?.message ?? err),
      }));
      if (!this.#timers.has(id)) return; // stopped meanwhile
      const before = state.Status;
      state = nextHealth(
        state,
        { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: r.exitCode, Output: r.output },
        retries,
        Date.now() - startedAt < startPeriod,
      );
      await this.#deps.save(id, state).catch(() => {});
      if (state.Status !== before) this.#deps.emit(id, state.Status);
      if (this.#timers.has(id))
        this.#timers.set(
          id,
          setTimeout(() => void tick(), clampDelay(next())),
        );
    };
    this.#timers.set(
      id,
      setTimeout(() => void tick(), clampDelay(next())),
    );
  }

  stop(id: string): void {
    const t = this.#timers.get(id);
    if (t) clearTimeout(t);
    this.#timers.delete(id);
  }

  close(): void {
    for (const id of [...this.#timers.keys()]) this.stop(id);
  }
}
