// The container service: create, start, stop, kill, wait, remove, and the exit and recovery
// paths. It drives the per-container monitor (runtime/conmon.ts) and never runs a Node process
// per container; conmon keeps containers alive across berthd restarts. Creation, recovery, the
// log hooks and the waiters live beside it (create.ts, recovery.ts, log-hooks.ts, waiters.ts).
import { rm } from 'node:fs/promises';
import { crashPoint } from '../base/crashpoint.ts';
import { KeyedMutex } from '../base/lock.ts';
import { sleep } from '../base/timers.ts';
import { ConflictError, NotFoundError, NotModifiedError } from '../errdefs/index.ts';
import type { Digest } from '../oci/digest.ts';
import {
  CgroupPaths,
  type CgroupSample,
  type HostResourceFacts,
  oomKilled,
  planResources,
  type ResourceFields,
  readHostResourceFacts,
} from '../runtime/index.ts';
import { prepareBundle, rootfsPaths, teardownRootfs } from './bundle.ts';
import { type CreateRequest, createContainer } from './create.ts';
import type { ContainerServiceDeps } from './deps.ts';
import { parseLink } from './links.ts';
import { ContainerLogHooks } from './log-hooks.ts';
import { type LogPolicy, monitorLogCap } from './logging.ts';
import { releaseMounts } from './mounts.ts';
import { containerCgroupsPath, removeMadeParents } from './cgroup-path.ts';
import { checkName, checkNameFree } from './names.ts';
import { attachNetworks } from './networking.ts';
import type { ContainerRecord, ContainerState } from './record.ts';
import { type RecoveryHost, recoverContainers, startAfterRecovery } from './recovery.ts';
import { RestartTimers, restartPolicy, shouldRestart } from './restart.ts';
import { withRootfs } from './rootfs-access.ts';
import { Freezers, rootfsBusy } from './rootfs-users.ts';
import { parseSignal } from './signals.ts';
import { treeSize } from './size.ts';
import { StartGates } from './start-gates.ts';
import { StatsSampler } from './stats.ts';
import { psTop } from './top.ts';
import { mergeUpdate } from './update.ts';
import { ContainerWaiters, type WaitCondition } from './waiters.ts';

export type { CreateRequest } from './create.ts';
export type { ContainerServiceDeps } from './deps.ts';
export type { WaitCondition } from './waiters.ts';

/** How long a SIGKILL waits to see the exit before answering anyway. */
const KILL_EXIT_WAIT_MS = 10_000;

export class ContainerService {
  readonly deps: ContainerServiceDeps;
  readonly #lock = new KeyedMutex();
  readonly #logs: ContainerLogHooks;
  readonly #restarts = new RestartTimers();
  readonly #startGates = new StartGates();
  #recovering = false;
  /** berthd is stopping its containers (live-restore off): exits schedule no restarts. */
  #shuttingDown = false;
  /** Filesystem operations holding a running container frozen (see withRootfs). */
  readonly #freezers = new Freezers();
  readonly #waiters = new ContainerWaiters();
  readonly #stats = new StatsSampler();

  readonly facts: HostResourceFacts;

  constructor(deps: ContainerServiceDeps) {
    this.deps = deps;
    this.facts = deps.resourceFacts ?? readHostResourceFacts();
    this.#logs = new ContainerLogHooks(deps);
  }

  /** The container's cgroup (same path in every v1 hierarchy). */
  cgroup(rec: ContainerRecord): CgroupPaths {
    return new CgroupPaths(this.facts.cgroupVersion, containerCgroupsPath(rec, this.deps.cgroupParent));
  }

  list(): ContainerRecord[] {
    return this.deps.store.all();
  }

  find(ref: string): ContainerRecord {
    return this.deps.store.find(ref);
  }

  /**
   * The record once a start under way has written it. The process runs (and prints) before its
   * start records `running`, so a signal sent in reply to its first output would otherwise meet
   * a `created` record and be refused; Docker's kill waits on the container lock the same way.
   */
  async #settled(ref: string): Promise<ContainerRecord> {
    const rec = this.find(ref);
    if (rec.state.status === 'running' || rec.state.status === 'paused' || !this.#lock.busy(rec.id))
      return rec;
    await this.#lock.run(rec.id, async () => {});
    return this.find(rec.id);
  }

  /** conmon's attach socket for a container (exists while its monitor runs). */
  attachSocket(id: string): string {
    return `${this.deps.store.dir(id)}/attach`;
  }

  /**
   * Runs `hook` once the container's monitor is up and before its process runs (at its next
   * start), or at once when it runs already: the attach to conmon's socket of a container whose
   * output no log file keeps (the `none` driver).
   */
  beforeProcessRuns(ref: string, hook: () => Promise<void>, signal: AbortSignal): Promise<void> {
    const rec = this.find(ref);
    const live = rec.state.status === 'running' || rec.state.status === 'paused';
    return this.#startGates.wait(rec.id, live, hook, signal);
  }

  logPath(id: string): string {
    return this.#logs.logPath(id);
  }

  /** Containers using an image (for `rmi` conflicts). */
  usersOf(imageId: Digest): { id: string; running: boolean }[] {
    return this.list()
      .filter((c) => c.imageId === imageId)
      .map((c) => ({ id: c.id, running: c.state.status === 'running' || c.state.status === 'paused' }));
  }

  #emit(id: string, action: string, rec?: ContainerRecord): void {
    const r = rec ?? this.deps.store.get(id);
    this.deps.events?.('container', action, id, {
      ...(r ? { name: r.name, image: r.config.Image } : {}),
      ...(r?.config.Labels ?? {}),
    });
  }

  /** `durable: false`: memory only, for an exit the removal that follows supersedes. */
  async #setState(rec: ContainerRecord, state: ContainerState, durable = true): Promise<ContainerRecord> {
    const next = { ...rec, state };
    if (durable) await this.deps.store.put(next);
    else this.deps.store.remember(next);
    this.#waiters.notify(rec.id, next);
    return next;
  }

  async create(req: CreateRequest): Promise<{ id: string; warnings: string[] }> {
    const { rec, warnings } = await createContainer(this.deps, this.facts, req);
    this.#emit(rec.id, 'create', rec);
    return { id: rec.id, warnings };
  }

  /** The writable layer's size and that plus the image's (Docker's SizeRw and SizeRootFs). */
  async sizes(rec: ContainerRecord): Promise<{ rw: number; rootFs: number }> {
    const rw = await treeSize(rootfsPaths(this.deps.store.dir(rec.id)).upper);
    const image = await this.deps.images.view(rec.imageId).catch(() => undefined);
    return { rw, rootFs: rw + (image?.size ?? 0) };
  }

  /** A cgroup sample of a running container (none when not running), for `stats`. */
  async stats(
    ref: string,
    opts: { withPrevious: boolean; windowMs?: number },
  ): Promise<{ rec: ContainerRecord; cur?: CgroupSample; prev?: CgroupSample }> {
    const rec = this.find(ref);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') return { rec };
    return {
      rec,
      ...(await this.#stats.sample(rec.id, this.cgroup(rec), opts.withPrevious, opts.windowMs)),
    };
  }

  /** `docker update`: new limits on the record, and on the running container via `runc update`. */
  async update(ref: string, changes: ResourceFields): Promise<{ warnings: string[] }> {
    const found = this.find(ref);
    return this.#lock.run(found.id, async () => {
      const rec = this.deps.store.get(found.id)!;
      const merged = mergeUpdate(rec.hostConfig, changes);
      const plan = planResources(merged, this.facts);
      if (rec.state.status === 'running' || rec.state.status === 'paused') {
        await this.deps.runtime.update(rec.id, plan.resources);
      }
      await this.deps.store.put({ ...rec, hostConfig: { ...rec.hostConfig, ...merged } });
      this.#emit(rec.id, 'update');
      return { warnings: plan.warnings };
    });
  }

  /** `restart` marks a start made by the restart policy (keeps its count; a user's start resets the back-off). */
  async start(ref: string, opts: { restart?: boolean } = {}): Promise<void> {
    const found = this.find(ref);
    if (!opts.restart) this.#restarts.forget(found.id);
    await this.#lock.run(found.id, async () => {
      let rec = this.deps.store.get(found.id)!;
      if (opts.restart && (!rec.restarting || rec.stoppedByUser)) return; // stopped meanwhile
      if (rec.stoppedByUser || rec.restarting || rec.health) {
        const { stoppedByUser: _s, restarting: _r, health: _h, ...rest } = rec;
        rec = rest;
        await this.deps.store.put(rec);
      }
      if (rec.state.status === 'running' || rec.state.status === 'paused') {
        throw new NotModifiedError('ALREADY_STARTED', `container ${rec.id} is already running`);
      }
      // No `runc delete` first: every exit and failed start already deleted the runtime state.
      const bundle = this.deps.store.dir(rec.id);
      // A stale attach socket from an earlier run would look like a live monitor to attach.
      await rm(this.attachSocket(rec.id), { force: true });
      const logs = this.#logs.policy(rec);
      const logCap = monitorLogCap(logs);
      try {
        await this.#logs.check(rec, logs);
        const net = this.deps.network && (await attachNetworks(this.deps.network, this.deps.store, rec));
        crashPoint('start:after-network');
        await prepareBundle(this.deps, rec, this.facts, net);
        crashPoint('start:after-rootfs');
        const { pid, conmonPid } = await this.deps.runtime.create({
          id: rec.id,
          name: rec.name,
          bundle,
          // `none` keeps nothing: conmon writes no file, attach reads its socket (beforeProcessRuns).
          ...(logs.localFile ? { logPath: this.logPath(rec.id) } : {}),
          terminal: rec.config.Tty,
          // Open stdin only when attach can feed it (the relay exists); else the process reads EOF
          // instead of hanging on a stdin nobody can write to.
          stdin: rec.config.OpenStdin && this.deps.stdinRelay !== undefined,
          // Docker closes stdin when the first attached client leaves only for StdinOnce without
          // a TTY (a terminal has no EOF to pass on, and detaching must not end the shell).
          leaveStdinOpen: rec.config.Tty || !rec.config.StdinOnce,
          ...(rec.hostConfig.Runtime ? { runtime: rec.hostConfig.Runtime } : {}),
          ...(logCap !== undefined ? { logSizeMax: logCap } : {}),
        });
        crashPoint('start:after-create');
        await this.#startGates.open(rec.id);
        // The clock is read before `runc start`, not after it returns: the process runs (and
        // its first log lines are stamped) as soon as runc lets it go, so a later time would put
        // them before StartedAt, and `logs --since <StartedAt>` (testcontainers' wait for a log
        // line after a restart) would miss them.
        const startedAt = new Date().toISOString();
        await this.deps.runtime.start(rec.id);
        crashPoint('start:before-record');
        rec = await this.#setState(rec, { status: 'running', pid, monitorPid: conmonPid, startedAt });
        this.#startGates.close(rec.id);
        crashPoint('start:after-record');
        this.#logs.arm(rec);
        this.#emit(rec.id, 'start', rec);
      } catch (err) {
        this.#startGates.close(rec.id);
        await this.deps.runtime.delete(rec.id, true).catch(() => {});
        await teardownRootfs(this.deps, rec).catch(() => {});
        await this.deps.network?.detach(rec.id).catch(() => {});
        const exitCode = (err as { exitCode?: number }).exitCode ?? 128;
        const now = new Date().toISOString();
        await this.#setState(rec, {
          status: 'exited',
          exitCode,
          startedAt: now,
          finishedAt: now,
          error: (err as Error).message,
        });
        // Docker removes an --rm container whose start failed.
        if (rec.hostConfig.AutoRemove)
          setImmediate(() => void this.remove(rec.id, { force: true }).catch(() => {}));
        throw err;
      }
    });
    // A process that exited before we marked it running left its exit file already; settle it
    // without holding up the reply (the watcher may also get there first — handleExit is idempotent).
    void this.deps.runtime
      .exitCode(found.id)
      .then((exit) => (exit ? this.handleExit(found.id) : undefined))
      .catch(() => {});
  }

  /** Log options of a container, for readers (rotated files, `--details` attributes). */
  logPolicy(rec: ContainerRecord): LogPolicy {
    return this.#logs.policy(rec);
  }

  /** Stops background work (log rotation); containers keep running. */
  close(): void {
    this.#logs.close();
    this.#restarts.close();
  }

  /** Records the healthcheck's state (State.Health), without touching anything else. */
  async setHealth(id: string, health: NonNullable<ContainerRecord['health']>): Promise<void> {
    await this.#lock.run(id, async () => {
      const cur = this.deps.store.get(id);
      if (cur && (cur.state.status === 'running' || cur.state.status === 'paused')) {
        await this.deps.store.put({ ...cur, health });
      }
    });
  }

  /** A user's stop or kill ends restarts; persisted so unless-stopped stays down at start-up. */
  async #markStoppedByUser(id: string): Promise<void> {
    this.#restarts.forget(id);
    // Under the lock: a restart in progress writes the record too, and must not drop the flag.
    await this.#lock.run(id, async () => {
      const cur = this.deps.store.get(id);
      if (cur && !cur.stoppedByUser) await this.deps.store.put({ ...cur, stoppedByUser: true });
    });
  }

  /** Called when conmon writes an exit file (and at recovery). */
  async handleExit(id: string): Promise<void> {
    const exit = await this.deps.runtime.exitCode(id);
    if (!exit) return;
    let autoRemove = false;
    await this.#lock.run(id, async () => {
      const rec = this.deps.store.get(id);
      if (!rec || (rec.state.status !== 'running' && rec.state.status !== 'paused')) return;
      const startedAt = rec.state.startedAt;
      this.#logs.exited(rec);
      // The cgroup goes away with `runc delete`: ask it about OOM kills first.
      const oom = await oomKilled(this.cgroup(rec)).catch(() => false);
      await this.deps.runtime.delete(id, true).catch(() => {});
      await teardownRootfs(this.deps, rec).catch((err) =>
        this.deps.log('warn', 'unmount failed', { id, err: String(err) }),
      );
      const policy = restartPolicy(rec.hostConfig);
      const restart = shouldRestart(policy, exit.code, rec.restartCount, rec.stoppedByUser === true);
      // A `--rm` container is removed right after: its exit is not written (two fsyncs on the
      // path `docker run --rm` waits for), nor its endpoints' unplugging (the release rewrites
      // them). A crash before the removal's commit finds the record still `running` with no
      // exit file and no runtime state, which recovery settles as an exit (detaching again)
      // and then removes, as it removes every --rm container that is not running.
      autoRemove = Boolean(rec.hostConfig.AutoRemove) && !restart;
      await this.deps.network
        ?.detach(id, { releasing: autoRemove })
        .catch((err) => this.deps.log('warn', 'network detach failed', { id, err: String(err) }));
      await this.deps.runtime.clearExit(id);
      const { daemonPaused: _dp, ...rest } = rec;
      // The exit and the pending restart are one write: a waiter woken by the exit must not see
      // a container that is neither running nor restarting (and remove it without force).
      const base = restart ? { ...rest, restarting: true, restartCount: rec.restartCount + 1 } : rest;
      const next = await this.#setState(
        base,
        {
          status: 'exited',
          exitCode: exit.code,
          startedAt,
          finishedAt: exit.at.toISOString(),
          error: '',
          ...(oom ? { oomKilled: true } : {}),
        },
        !autoRemove,
      );
      if (oom) this.#emit(id, 'oom', next);
      this.#emit(id, 'die', {
        ...next,
        config: { ...next.config, Labels: { ...next.config.Labels, exitCode: String(exit.code) } },
      });
      if (restart) {
        const ranMs = exit.at.getTime() - Date.parse(startedAt);
        if (!this.#recovering && !this.#shuttingDown)
          this.#restarts.schedule(id, ranMs, () => {
            this.start(id, { restart: true }).catch((err) =>
              this.deps.log('warn', 'restart failed', { id, err: String(err) }),
            );
          });
      }
    });
    crashPoint('exit:before-autoremove');
    if (autoRemove)
      await this.remove(id, { force: true }).catch(() =>
        // Not removed after all (a copy in progress): the exit and the unplugging are written
        // as for any container. Under the lock, re-reading the record: a concurrent `rm -f` that
        // removed it in between must not see it written back (the container would reappear).
        this.#lock.run(id, async () => {
          const cur = this.deps.store.get(id);
          if (!cur) return;
          await this.deps.network?.detach(id).catch(() => {});
          await this.deps.store.put(cur).catch(() => {});
        }),
      );
  }

  /** Resolves when the condition holds; returns the exit code Docker reports. */
  async wait(
    ref: string,
    condition: WaitCondition,
    signal?: AbortSignal,
  ): Promise<{ code: number; error: string }> {
    // Registered before the first await: a caller's kill right after this call cannot be missed.
    return this.#waiters.wait(this.find(ref), condition, signal);
  }

  async kill(ref: string, signalName = 'SIGKILL'): Promise<void> {
    const rec = await this.#settled(ref);
    const sig = parseSignal(signalName);
    if (rec.state.status === 'running' || rec.state.status === 'paused')
      await this.#markStoppedByUser(rec.id);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
      throw new ConflictError(
        'NOT_RUNNING',
        `Cannot kill container: ${ref}: Container ${rec.id} is not running`,
      );
    }
    // SIGKILL cannot be caught: Docker answers only once the container is seen exited, so an
    // inspect right after the kill shows `exited` (137). Other signals may be handled or
    // ignored by the process and return at once. Bounded: a process stuck in the kernel (D
    // state) must not hold the request forever.
    const done = new AbortController();
    const exited = sig === 9 ? this.wait(rec.id, 'next-exit', done.signal).catch(() => {}) : undefined;
    try {
      await this.deps.runtime.kill(rec.id, String(sig));
      this.#emitKill(rec, sig);
      if (exited) await Promise.race([exited, sleep(KILL_EXIT_WAIT_MS)]);
    } finally {
      done.abort(); // drops the exit listener when the kill failed or the wait timed out
    }
  }

  #emitKill(rec: ContainerRecord, sig: number): void {
    this.#emit(rec.id, 'kill', {
      ...rec,
      config: { ...rec.config, Labels: { ...rec.config.Labels, signal: String(sig) } },
    });
  }

  async stop(
    ref: string,
    timeoutSeconds?: number,
    signalName?: string,
    opts: { byDaemon?: boolean } = {},
  ): Promise<void> {
    let rec = await this.#settled(ref);
    // A stop ends the restart policy's work, also between an exit and its restart; the
    // daemon's own shutdown stop does not count as the user's.
    if (!opts.byDaemon) await this.#markStoppedByUser(rec.id);
    if (rec.restarting) {
      await this.#lock.run(rec.id, async () => {
        const cur = this.deps.store.get(rec.id);
        if (cur?.restarting) await this.deps.store.put({ ...cur, restarting: false });
      });
      rec = this.find(rec.id);
      if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
        this.#emit(rec.id, 'stop');
        return;
      }
    }
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
      throw new NotModifiedError('NOT_RUNNING', `container ${rec.id} is not running`);
    }
    const timeout = timeoutSeconds ?? rec.config.StopTimeout ?? 10;
    const exited = this.wait(rec.id, 'next-exit');
    const sig = parseSignal(signalName ?? rec.config.StopSignal ?? 'SIGTERM');
    // Docker's stop is kill, die, stop in its events: each signal sent is a `kill` event.
    await this.deps.runtime.kill(rec.id, String(sig)).then(
      () => this.#emitKill(rec, sig),
      () => {},
    );
    if (rec.state.status === 'paused') await this.deps.runtime.resume(rec.id).catch(() => {});
    const timedOut =
      timeout >= 0
        ? await Promise.race([exited.then(() => false), sleep(timeout * 1000).then(() => true)])
        : false;
    if (timedOut)
      await this.deps.runtime.kill(rec.id, '9', true).then(
        () => this.#emitKill(rec, 9),
        () => {},
      );
    await exited;
    this.#emit(rec.id, 'stop');
  }

  /** `volumes` (`rm -v`, and always for `--rm`) also removes the container's anonymous volumes. */
  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.find(ref);
    // Between an exit and its policy's restart the container is as good as running: Docker
    // refuses to remove it without force (the pending restart would otherwise race the removal).
    if (rec.restarting && !opts.force) {
      throw new ConflictError(
        'CONTAINER_RESTARTING',
        `cannot remove container "/${rec.name}": container is restarting: stop the container before removing or force remove`,
      );
    }
    this.#restarts.forget(rec.id);
    if (rec.state.status === 'running' || rec.state.status === 'paused') {
      if (!opts.force) {
        throw new ConflictError(
          'CONTAINER_RUNNING',
          `cannot remove container "/${rec.name}": container is running: stop the container before removing or force remove`,
        );
      }
      const exited = this.wait(rec.id, 'next-exit');
      await this.deps.runtime.kill(rec.id, '9', true).then(
        () => this.#emitKill(rec, 9),
        () => {},
      );
      await Promise.race([exited, sleep(10_000)]);
    }
    await this.#lock.run(rec.id, async () => {
      const cur = this.deps.store.get(rec.id);
      if (!cur) return;
      if (rootfsBusy(this.deps.store.dir(rec.id)))
        throw new ConflictError(
          'ROOTFS_IN_USE',
          `container ${rec.id} is being copied from or to; retry when it ends`,
        );
      // An exited container's runtime state was already deleted when its exit was handled.
      if (cur.state.status !== 'exited') await this.deps.runtime.delete(rec.id, true).catch(() => {});
      crashPoint('rm:after-runtime-delete');
      await teardownRootfs(this.deps, cur);
      crashPoint('rm:after-unmount');
      // The log goes with the container: a remote driver gets a moment to deliver its rest.
      await this.#logs.settle(rec.id, 5000);
      const dropAnonymous = Boolean(opts.volumes || cur.hostConfig.AutoRemove);
      // The commit point: once the record is renamed away the removal is finished at the next
      // start if a crash cuts it short (recover → #finishRemoval); before it, the container is
      // whole and not running, which recovery also settles.
      await this.deps.store.markRemoved(rec.id, dropAnonymous);
      crashPoint('rm:after-record');
      await this.#finishRemoval(cur, dropAnonymous);
      this.#emit(rec.id, 'destroy', cur);
      this.#waiters.notify(rec.id, undefined);
      this.#waiters.forget(rec.id);
      this.#stats.forget(rec.id);
    });
  }

  /**
   * `by`: the daemon pauses for its own operation (commit). That intent is written before the
   * freeze, so a crash while paused is undone at the next start instead of leaving the
   * container paused forever; a user's pause is kept across restarts.
   */
  async pause(ref: string, opts: { by?: 'commit' } = {}): Promise<void> {
    const rec = this.find(ref);
    await this.#lock.run(rec.id, async () => {
      let cur = this.deps.store.get(rec.id)!;
      if (cur.state.status === 'paused') {
        throw new ConflictError('ALREADY_PAUSED', `Container ${rec.id} is already paused`);
      }
      if (cur.state.status !== 'running')
        throw new ConflictError('NOT_RUNNING', `Container ${rec.id} is not running`);
      const state = cur.state;
      if (opts.by) {
        cur = { ...cur, daemonPaused: opts.by };
        await this.deps.store.put(cur);
      }
      try {
        await this.deps.runtime.pause(rec.id);
      } catch (err) {
        if (opts.by) await this.#clearDaemonPause(rec.id);
        throw err;
      }
      crashPoint(`${opts.by ?? 'pause'}:after-pause`);
      await this.#setState(cur, { ...state, status: 'paused' });
      this.#emit(rec.id, 'pause');
    });
  }

  async #clearDaemonPause(id: string): Promise<void> {
    const cur = this.deps.store.get(id);
    if (cur?.daemonPaused) {
      const { daemonPaused: _d, ...rest } = cur;
      await this.deps.store.put(rest);
    }
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.find(ref);
    await this.#lock.run(rec.id, async () => {
      const cur = this.deps.store.get(rec.id)!;
      if (cur.state.status !== 'paused')
        throw new ConflictError('NOT_PAUSED', `Container ${rec.id} is not paused`);
      await this.deps.runtime.resume(rec.id);
      const { daemonPaused: _d, ...rest } = cur;
      await this.#setState(rest, { ...cur.state, status: 'running' });
      this.#emit(rec.id, 'unpause');
    });
  }

  async restart(ref: string, timeoutSeconds?: number, signalName?: string): Promise<void> {
    const rec = this.find(ref);
    if (rec.state.status === 'running' || rec.state.status === 'paused')
      await this.stop(rec.id, timeoutSeconds, signalName);
    await this.start(rec.id);
    this.#emit(rec.id, 'restart');
  }

  /** `DELETE /containers/{parent}/{alias}?link=1`: drops the parent's link; both containers stay. */
  async removeLink(parentRef: string, alias: string): Promise<void> {
    const parent = this.find(parentRef);
    await this.#lock.run(parent.id, async () => {
      const cur = this.deps.store.get(parent.id)!;
      const links = (cur.hostConfig.Links as string[] | null | undefined) ?? [];
      const kept = links.filter((l) => parseLink(l).alias !== alias);
      if (kept.length === links.length)
        throw new NotFoundError(
          'LINK_NOT_FOUND',
          `container ${cur.name} has no link named ${alias}: see HostConfig.Links in its inspect`,
        );
      await this.deps.store.put({ ...cur, hostConfig: { ...cur.hostConfig, Links: kept } });
    });
  }

  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.find(ref);
    const name = newName.replace(/^\//, '');
    checkName(name);
    if (name === rec.name)
      throw new ConflictError('SAME_NAME', `Renaming a container with the same name as its current name`);
    await this.#lock.run('names', async () => {
      checkNameFree((n) => this.deps.store.byName(n), name);
      const cur = this.deps.store.get(rec.id)!;
      await this.deps.store.put({ ...cur, name });
      crashPoint('rename:after-record');
      // Endpoints carry the name for the embedded DNS; start-up re-derives them from the record.
      await this.deps.network?.renameEndpoints(rec.id, name);
      this.#emit(rec.id, 'rename');
    });
  }

  /** Resizes a running container's TTY; a no-op without one, as the docker CLI only asks with -t. */
  async resize(ref: string, height: number, width: number): Promise<void> {
    const rec = await this.#settled(ref);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
      throw new ConflictError('NOT_RUNNING', `Container ${rec.id} is not running`);
    }
    if (!rec.config.Tty) return;
    await this.deps.runtime.resize(this.deps.store.dir(rec.id), height, width);
  }

  /** `docker top`: host `ps` output (with the caller's ps options) limited to the container's PIDs. */
  async top(ref: string, psArgs = '-ef'): Promise<{ titles: string[]; processes: string[][] }> {
    const rec = await this.#settled(ref);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
      throw new ConflictError('NOT_RUNNING', `Container ${rec.id} is not running`);
    }
    return psTop(new Set(await this.deps.runtime.pids(rec.id)), psArgs);
  }

  /** Runs `fn` with the container's root filesystem mounted (see rootfs-access.ts). */
  async withRootfs<T>(
    ref: string,
    fn: (rec: ContainerRecord, root: string) => Promise<T>,
    opts: { freeze?: boolean } = {},
  ): Promise<T> {
    return withRootfs(
      {
        deps: this.deps,
        lock: this.#lock,
        freezers: this.#freezers,
        clearDaemonPause: (id) => this.#clearDaemonPause(id),
      },
      this.find(ref).id,
      fn,
      opts,
    );
  }

  /** `docker container prune`: removes stopped containers; returns their IDs. */
  async prune(filter: (rec: ContainerRecord) => boolean = () => true): Promise<string[]> {
    const removed: string[] = [];
    for (const rec of this.list()) {
      if (rec.state.status === 'running' || rec.state.status === 'paused' || !filter(rec)) continue;
      await this.remove(rec.id).catch(() => {});
      removed.push(rec.id);
    }
    return removed;
  }

  /**
   * berthd's shutdown with live-restore off: every running container is stopped as `docker
   * stop` stops it (its stop signal, then SIGKILL after its stop timeout), all in parallel.
   * Restart policies act at the next start (the exit is recorded as restarting), not now.
   */
  async stopAllForShutdown(): Promise<void> {
    this.#shuttingDown = true;
    const running = this.list().filter((c) => c.state.status === 'running' || c.state.status === 'paused');
    await Promise.all(
      running.map((c) =>
        this.stop(c.id, undefined, undefined, { byDaemon: true }).catch((err) =>
          this.deps.log('warn', 'stopping container at shutdown failed', { id: c.id, err: String(err) }),
        ),
      ),
    );
  }

  /** Start-up: adopt containers still running under their monitors; settle the ones that exited. */
  async recover(): Promise<void> {
    // Exits seen now only mark restarts: the daemon starts them with startAfterRecovery(), once
    // networks are reconciled (a restart racing the reconciliation would lose its veth).
    this.#recovering = true;
    try {
      await recoverContainers(this.#recoveryHost());
    } finally {
      this.#recovering = false;
    }
  }

  /** Restart policies at daemon start (see recovery.ts). */
  startAfterRecovery(): Promise<void> {
    return startAfterRecovery(this.#recoveryHost());
  }

  #recoveryHost(): RecoveryHost {
    return {
      deps: this.deps,
      logs: this.#logs,
      list: () => this.list(),
      cgroup: (rec) => this.cgroup(rec),
      handleExit: (id) => this.handleExit(id),
      setState: (rec, state) => this.#setState(rec, state),
      finishRemoval: (rec, drop) => this.#finishRemoval(rec, drop),
      remove: (id, opts) => this.remove(id, opts),
      start: (id) => this.start(id),
    };
  }

  /** What a removal releases after its commit point (markRemoved); idempotent, for recovery too. */
  async #finishRemoval(rec: ContainerRecord, dropAnonymous: boolean): Promise<void> {
    await this.deps.network?.release(rec.id);
    crashPoint('rm:after-network-release');
    await releaseMounts(this.deps.volumes, rec.id, rec.mounts ?? [], dropAnonymous);
    if (rec.cgroupParent && rec.cgroupParentMadeIn)
      await removeMadeParents(this.facts.cgroupVersion, rec.cgroupParent, rec.cgroupParentMadeIn);
    await this.deps.store.purge(rec.id);
  }
}
