// A container's logging as the service sees it: the policy from its LogConfig (drivers in
// logs/drivers), the rotation of the local log conmon writes (berthd rotates it when more than
// one file is kept), and the shipping of that log to a remote driver.
import type { Log } from '../base/log.ts';
import { UnavailableError } from '../errdefs/index.ts';
import {
  type ContainerLogInfo,
  extraAttributes,
  type FinishedFiles,
  type LogPlan,
  LogRotator,
  LogShipper,
  planLogging,
  type SinkDeps,
} from '../logs/index.ts';
import type { ContainerRecord, HostConfig } from './record.ts';
import { setOwn } from '../base/own.ts';

export interface LogPolicy extends LogPlan {
  /** Extra attributes shown by `logs --details` (from the labels/env/env-regex options). */
  readonly details: Record<string, string>;
}

/** Docker's daemon-wide default (daemon.json log-driver / log-opts). */
export interface LogDefaults {
  readonly type: string;
  readonly config: Readonly<Record<string, string>>;
}

export const BUILTIN_LOG_DEFAULTS: LogDefaults = { type: 'json-file', config: {} };
const CACHE_KEYS = ['cache-disabled', 'cache-max-size', 'cache-max-file', 'cache-compress'];

/**
 * The LogConfig a new container keeps (moby's mergeAndVerifyLogConfig): an empty Type takes the
 * daemon's driver; the daemon's options fill what the container leaves unset when the drivers
 * match; the dual-logging cache options always carry over.
 */
export function withLogDefaults(
  cfg: HostConfig['LogConfig'],
  d: LogDefaults,
): { Type: string; Config: Record<string, string> } {
  const type = cfg?.Type || d.type;
  const config: Record<string, string> = { ...(cfg?.Config ?? {}) };
  for (const [k, v] of Object.entries(d.config)) {
    if (Object.hasOwn(config, k)) continue;
    if (type === d.type || (CACHE_KEYS.includes(k) && planLogging(type, {}).remote)) setOwn(config, k, v);
  }
  return { Type: type, Config: config };
}

/** Validates and reads LogConfig; throws a 400-class error naming the bad driver or option. */
export function logPolicy(
  h: HostConfig,
  labels: Record<string, string> = {},
  env: readonly string[] = [],
  at: 'create' | 'use' = 'use',
): LogPolicy {
  // Records from before defaults were stored have an empty Type: json-file, as then.
  const opts = h.LogConfig?.Config ?? {};
  const plan = planLogging(h.LogConfig?.Type || 'json-file', opts, at);
  return { ...plan, details: extraAttributes(opts, labels, env) };
}

/**
 * conmon's --log-size-max: with one file it is the rotation itself (conmon replaces the full
 * log). With more, berthd rotates and conmon gets no cap: conmon 2.1's byte count is not reset
 * when berthd asks it to reopen the log, so any cap would fire after that many bytes in total
 * and replace the live file, losing its lines (seen as a gap of one file's worth in the logs).
 * The cost: while berthd is down, the live file grows until berthd is back and rotates it.
 */
export function monitorLogCap(p: LogPolicy): number | undefined {
  if (p.maxSize === undefined || p.maxFiles > 1) return undefined;
  return p.maxSize;
}

/** One rotator per running container that keeps more than one log file. */
export class LogRotations {
  readonly #rotators = new Map<string, LogRotator>();

  arm(id: string, file: string, p: LogPolicy, reopen: () => Promise<void>, finished?: FinishedFiles): void {
    this.disarm(id);
    if (p.maxSize === undefined || p.maxFiles <= 1) return;
    const r = new LogRotator({
      file,
      maxSize: p.maxSize,
      maxFiles: p.maxFiles,
      reopen,
      compress: p.compress,
      ...(finished ? { finished } : {}),
    });
    this.#rotators.set(id, r);
    r.start();
  }

  disarm(id: string): void {
    this.#rotators.get(id)?.stop();
    this.#rotators.delete(id);
  }

  close(): void {
    for (const id of [...this.#rotators.keys()]) this.disarm(id);
  }
}

/** What a driver may tell about a container. */
export function logInfo(rec: ContainerRecord): ContainerLogInfo {
  return {
    id: rec.id,
    name: rec.name,
    imageName: rec.config.Image,
    imageId: rec.imageId,
    created: rec.created,
    command: [rec.path, ...rec.args].join(' '),
    labels: rec.config.Labels ?? {},
    env: rec.config.Env ?? [],
    daemonName: 'berth',
    hostname: rec.config.Hostname,
  };
}

/**
 * One shipper per container with a remote driver: started with the container (or on adoption
 * after a daemon restart), finished when it exits (it delivers what is left, then stops).
 */
export class LogShippers {
  readonly #shippers = new Map<string, LogShipper>();
  readonly #deps: SinkDeps;
  readonly #log: Log;

  constructor(deps: SinkDeps, log: Log) {
    this.#deps = deps;
    this.#log = log;
  }

  /** Blocking mode: the start fails, as Docker's, when the receiver cannot be reached. */
  async check(rec: ContainerRecord, p: LogPolicy): Promise<void> {
    if (!p.remote?.checkAtStart) return;
    const sink = p.remote.spec.open(logInfo(rec), rec.hostConfig.LogConfig?.Config ?? {}, this.#deps);
    try {
      await sink.connect();
    } catch (err) {
      throw new UnavailableError(
        'LOG_DRIVER_UNREACHABLE',
        `failed to initialize logging driver: ${(err as Error).message} (or use --log-opt mode=non-blocking to start anyway and deliver once it is up)`,
      );
    } finally {
      sink.close();
    }
  }

  arm(rec: ContainerRecord, p: LogPolicy, file: string, cursorFile: string): LogShipper | undefined {
    const remote = p.remote;
    if (!remote) return undefined;
    const old = this.#shippers.get(rec.id);
    if (old?.resume()) return old;
    const s = new LogShipper({
      file,
      maxFiles: p.maxFiles,
      cursorFile,
      sink: remote.spec.open(logInfo(rec), rec.hostConfig.LogConfig?.Config ?? {}, this.#deps),
      retryWaitMs: remote.retryWaitMs,
      ...(remote.maxRetries !== undefined ? { maxRetries: remote.maxRetries } : {}),
      ...(remote.maxMessages !== undefined ? { maxMessages: remote.maxMessages } : {}),
      onError: (err, attempt) => {
        // The first failure and then every tenth: a receiver down for hours must not flood the log.
        if (attempt === 1 || attempt % 10 === 0)
          this.#log('warn', 'log delivery failed; retrying', {
            id: rec.id,
            driver: p.driver,
            attempt,
            err: err.message,
          });
      },
    });
    this.#shippers.set(rec.id, s);
    s.start();
    return s;
  }

  /** The container exited: deliver the rest, then forget the shipper. */
  finish(rec: ContainerRecord, p: LogPolicy, file: string, cursorFile: string): Promise<void> {
    // The running shipper, not a resumed one: arm() would undo the finish.
    const s = this.#shippers.get(rec.id) ?? this.arm(rec, p, file, cursorFile);
    if (!s) return Promise.resolve();
    return s.finish().finally(() => {
      if (this.#shippers.get(rec.id) === s) this.#shippers.delete(rec.id);
    });
  }

  /** Before a removal: give pending lines up to `ms` to leave, then stop. */
  async settle(id: string, ms: number): Promise<void> {
    const s = this.#shippers.get(id);
    if (!s) return;
    let t: NodeJS.Timeout | undefined;
    await Promise.race([s.finish(), new Promise((r) => (t = setTimeout(r, ms)))]);
    clearTimeout(t);
    this.disarm(id);
  }

  /** How many rotated files a container's shipper has delivered (all, without one). */
  finishedFiles(id: string, oldestFirst: readonly number[]): number {
    return this.#shippers.get(id)?.finishedFiles(oldestFirst) ?? oldestFirst.length;
  }

  disarm(id: string): void {
    this.#shippers.get(id)?.stop();
    this.#shippers.delete(id);
  }

  close(): void {
    for (const id of [...this.#shippers.keys()]) this.disarm(id);
  }
}
