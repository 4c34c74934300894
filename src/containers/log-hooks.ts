// A container's log on the host side of its lifecycle: rotation of the file conmon writes, and
// delivery to a remote driver (fluentd, syslog, journald…) from that file. The container
// service calls these hooks at start, adoption, exit, removal and shutdown.
import type { Log } from '../base/log.ts';
import type { SinkDeps } from '../logs/index.ts';
import type { ConmonRuntime } from '../runtime/conmon.ts';
import { type LogPolicy, LogRotations, LogShippers, logPolicy } from './logging.ts';
import type { ContainerRecord } from './record.ts';
import type { ContainerStore } from './store.ts';

export interface LogHookDeps {
  readonly store: Pick<ContainerStore, 'dir'>;
  readonly runtime: Pick<ConmonRuntime, 'reopenLog'>;
  readonly log: Log;
  /** What remote log drivers need from the daemon (the unixgram relay, the journal socket). */
  readonly logSinks?: SinkDeps;
}

export class ContainerLogHooks {
  readonly #deps: LogHookDeps;
  readonly #rotations = new LogRotations();
  readonly #shippers: LogShippers;

  constructor(deps: LogHookDeps) {
    this.#deps = deps;
    this.#shippers = new LogShippers(
      deps.logSinks ?? { journalSocket: '/run/systemd/journal/socket' },
      deps.log,
    );
  }

  /** The file conmon writes the container's output to. */
  logPath(id: string): string {
    return `${this.#deps.store.dir(id)}/ctr.log`;
  }

  /** Where a remote driver's delivery stands in the local log (durable, atomic). */
  #cursorPath(id: string): string {
    return `${this.#deps.store.dir(id)}/log.cursor`;
  }

  /** Log options of a container (its driver, rotation, remote delivery). */
  policy(rec: ContainerRecord): LogPolicy {
    return logPolicy(rec.hostConfig, rec.config.Labels, rec.config.Env);
  }

  /** Blocking mode: the start fails, as Docker's, when the receiver cannot be reached. */
  check(rec: ContainerRecord, policy: LogPolicy): Promise<void> {
    return this.#shippers.check(rec, policy);
  }

  /** A started or adopted container: rotate its log and ship it to its remote driver. */
  arm(rec: ContainerRecord): void {
    const policy = this.policy(rec);
    const bundle = this.#deps.store.dir(rec.id);
    this.#rotations.arm(
      rec.id,
      this.logPath(rec.id),
      policy,
      () => this.#deps.runtime.reopenLog(bundle),
      (inos) => this.#shippers.finishedFiles(rec.id, inos),
    );
    this.#shippers.arm(rec, policy, this.logPath(rec.id), this.#cursorPath(rec.id));
  }

  /** The container exited: no more rotation; a remote driver delivers what the log still holds. */
  exited(rec: ContainerRecord): void {
    this.#rotations.disarm(rec.id);
    this.finishShipping(rec);
  }

  /** A remote driver delivers what an exited container's log still holds. */
  finishShipping(rec: ContainerRecord): void {
    let p: LogPolicy;
    try {
      p = this.policy(rec);
    } catch {
      return; // a record from before this driver table: nothing to ship
    }
    void this.#shippers.finish(rec, p, this.logPath(rec.id), this.#cursorPath(rec.id)).catch(() => {});
  }

  /** Before a removal: give pending lines up to `ms` to leave, then stop. */
  settle(id: string, ms: number): Promise<void> {
    return this.#shippers.settle(id, ms);
  }

  /** Stops background work; containers keep running. */
  close(): void {
    this.#rotations.close();
    this.#shippers.close();
  }
}
