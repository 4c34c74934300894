// CRI containers: CreateContainer / StartContainer / StopContainer / RemoveContainer /
// ContainerStatus / ListContainers, inside the pod sandboxes of sandboxes.ts, through the same
// conmon + runc driver and image store Docker containers use. CreateContainer mounts the overlay
// rootfs and writes the bundle; StartContainer runs conmon (which writes the CRI log file); the
// exit (conmon's exit file, watched, and re-read on every status) ends the runtime state and the
// mount, leaving the record until RemoveContainer. The state is always read from the runtime, so
// a berthd restart reports what really runs.
import { type FSWatcher, promises as fsp, watch } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { randomId } from '../base/ids.ts';
import { KeyedMutex } from '../base/lock.ts';
import type { Log } from '../base/log.ts';
import type { ImageView } from '../images/index.ts';
import { CgroupPaths, cgroupVersion, oomKilled } from '../runtime/index.ts';
import type { RuntimeBinding } from '../runtime/conmon.ts';
import { mountOverlay, unmount } from '../snapshots/index.ts';
import { containerPaths, type PodFacts, writeContainerBundle } from './container-bundle.ts';
import { planContainer } from './container-config.ts';
import { containerKey, type CriContainerRecord, type CriContainerStore } from './container-store.ts';
import { containerStatus, listItem } from './container-status.ts';
import { CriError } from './errors.ts';
import { ownOomScoreAdj } from './sandbox-bundle.ts';
import type { SandboxRecord } from './sandbox-store.ts';
import type { SandboxRuntime } from './sandboxes.ts';
import type { Msg } from './server.ts';

/** What containers need of the OCI runtime driver beyond what sandboxes do (ConmonRuntime). */
export interface ContainerRuntime extends SandboxRuntime {
  readonly opts: { readonly exitDir: string; readonly socketDir: string };
  runtimeFor(id: string): RuntimeBinding;
  update(id: string, resources: object): Promise<void>;
  reopenLog(bundle: string): Promise<void>;
}

/** The image store, as containers use it. */
export interface ContainerImages {
  /** An ID, a unique ID prefix or a name. */
  find(ref: string): Promise<ImageView | undefined>;
  /** The image's layer directories, topmost first, relative to layersRoot. */
  lowerDirs(view: ImageView): Promise<string[]>;
  readonly layersRoot: string;
}

/** A pod sandbox as containers see it (SandboxService.pod). */
export interface PodRef {
  readonly record: SandboxRecord;
  /** The pod's hostname, hosts, resolv.conf files: [destination, host file]. */
  readonly etcFiles: readonly (readonly [string, string])[];
  /** A /dev/shm mount shared by the pod's containers, when the pod has one. */
  readonly shm?: string;
}

export interface CriContainerDeps {
  readonly store: CriContainerStore;
  readonly runtime: ContainerRuntime;
  readonly images: ContainerImages;
  readonly pod: (id: string) => PodRef | undefined;
  readonly log: Log;
}

/** How long an exit is waited for once the runtime says the process is gone. */
const EXIT_FILE_WAIT_MS = 3000;
/** How long StopContainer waits for the exit after SIGKILL before giving up. */
const KILL_WAIT_MS = 10_000;

export function nowNs(): string {
  return (BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)).toString();
}

const msToNs = (ms: number) => (BigInt(Math.round(ms)) * 1_000_000n).toString();

export class CriContainers {
  readonly d: CriContainerDeps;
  readonly #lock = new KeyedMutex();
  #watcher: FSWatcher | undefined;
  /** Called with every lifecycle change (GetContainerEvents). */
  readonly #listeners = new Set<(type: string, rec: CriContainerRecord) => void>();

  constructor(deps: CriContainerDeps) {
    this.d = deps;
  }

  paths(id: string) {
    return containerPaths(this.d.store.dir(id));
  }

  onEvent(fn: (type: string, rec: CriContainerRecord) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(type: string, rec: CriContainerRecord): void {
    for (const fn of this.#listeners) fn(type, rec);
  }

  /** Start-up: half-made containers are undone; running ones whose process ended are settled. */
  async recover(): Promise<void> {
    const { store, runtime, log } = this.d;
    for (const id of store.orphans.splice(0)) {
      log('info', 'removing a CRI container a crash left half made', { id });
      await runtime.delete(id, true).catch(() => {});
      await runtime.clearExit(id).catch(() => {});
      await this.#unmountAll(id);
      await store.remove(id);
    }
    for (const rec of store.all()) {
      try {
        runtime.bind(rec.id, rec.runtimeHandler || undefined);
      } catch {
        // a handler removed from daemon.json: runc's root still finds the state
      }
      if (rec.state.status === 'created') await this.#lock.run(rec.id, () => this.#adoptStarted(rec));
      else await this.#refresh(rec.id);
    }
    // Exits are noticed as conmon writes them (a container ending on its own emits its event,
    // a shared-PID container's leftovers are killed at once), and re-read on every status.
    this.#watcher = watch(runtime.opts.exitDir, (_e, name) => {
      const id = name?.toString();
      if (id && this.d.store.get(id)?.state.status === 'running')
        void this.#refresh(id).catch((err) =>
          log('warn', 'settling a CRI container exit failed', { id, err: String(err) }),
        );
    });
  }

  close(): void {
    this.#watcher?.close();
  }

  /** A start a crash cut short after `runc start`: the record says created, the process runs. */
  async #adoptStarted(rec: CriContainerRecord): Promise<void> {
    const st = await this.d.runtime.state(rec.id);
    if (!st) return;
    if (st.status === 'running' || st.status === 'paused') {
      const conmonPid = Number(
        (
          await fsp.readFile(path.join(this.paths(rec.id).bundle, 'conmon.pid'), 'utf8').catch(() => '0')
        ).trim(),
      );
      await this.d.store.put({
        ...rec,
        state: { status: 'running', pid: st.pid, conmonPid, startedAt: nowNs() },
      });
      return;
    }
    // `runc create` happened, `runc start` did not: back to created.
    await this.d.runtime.delete(rec.id, true).catch(() => {});
    await this.d.runtime.clearExit(rec.id);
  }

  #must(ref: string): CriContainerRecord {
    if (!ref) throw new CriError(status.INVALID_ARGUMENT, 'container_id: must not be empty');
    const rec = this.d.store.find(ref);
    if (!rec) throw new CriError(status.NOT_FOUND, `container ${ref} not found`);
    return rec;
  }

  /** The record by ID or unique prefix, with its state read from the runtime. */
  async get(ref: string): Promise<CriContainerRecord> {
    const rec = await this.#refresh(this.#must(ref).id);
    if (!rec) throw new CriError(status.NOT_FOUND, `container ${ref} not found`);
    return rec;
  }

  async #refresh(id: string): Promise<CriContainerRecord | undefined> {
    const rec = this.d.store.get(id);
    if (rec?.state.status !== 'running') return rec;
    const exit = await this.d.runtime.exitCode(id);
    if (!exit) {
      const st = await this.d.runtime.state(id);
      if (st && (st.status === 'running' || st.status === 'paused')) return rec;
    }
    return this.#lock.run(id, () => this.#settleExit(id));
  }

  /**
   * The process ended: the OOM verdict is read while the cgroup exists, then `runc delete`
   * ends what is left of the container (the processes of a shared-PID container do not die
   * with it by themselves) and its cgroup, and the rootfs is unmounted.
   */
  async #settleExit(id: string): Promise<CriContainerRecord | undefined> {
    const rec = this.d.store.get(id);
    if (rec?.state.status !== 'running') return rec;
    const { runtime } = this.d;
    const exit = await this.#exitOf(id, rec.state.conmonPid);
    const oom = await oomKilled(new CgroupPaths(cgroupVersion(), rec.cgroupsPath)).catch(() => false);
    await runtime
      .delete(id, true)
      .catch((err) => this.d.log('warn', 'runtime delete failed', { id, err: String(err) }));
    await runtime.clearExit(id);
    await unmount(this.paths(id).merged);
    const code = exit?.code ?? 255;
    const next: CriContainerRecord = {
      ...rec,
      state: {
        status: 'exited',
        startedAt: rec.state.startedAt,
        finishedAt: exit ? msToNs(exit.at.getTime()) : nowNs(),
        exitCode: code,
        reason: oom ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error',
        message: exit ? '' : 'the container monitor recorded no exit code',
      },
    };
    await this.d.store.put(next);
    this.#emit('CONTAINER_STOPPED_EVENT', next);
    return next;
  }

  /**
   * The exit code conmon records. The runtime can report the process gone a moment before
   * conmon has written it: while conmon lives, that moment is waited for (bounded).
   */
  async #exitOf(id: string, conmonPid: number): Promise<{ code: number; at: Date } | undefined> {
    const deadline = Date.now() + EXIT_FILE_WAIT_MS;
    for (;;) {
      const exit = await this.d.runtime.exitCode(id);
      if (exit || Date.now() > deadline) return exit;
      const cmd = await fsp.readFile(`/proc/${conmonPid}/cmdline`, 'utf8').catch(() => '');
      if (!cmd.includes(id)) return this.d.runtime.exitCode(id);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async create(req: Msg): Promise<string> {
    const sandboxId = String(req.pod_sandbox_id ?? '');
    if (!sandboxId) throw new CriError(status.INVALID_ARGUMENT, 'pod_sandbox_id: must not be empty');
    const pod = this.d.pod(sandboxId);
    if (!pod) throw new CriError(status.NOT_FOUND, `pod sandbox ${sandboxId} not found`);
    const sb = pod.record;
    if (sb.state.status !== 'ready')
      throw new CriError(status.FAILED_PRECONDITION, `pod sandbox ${sb.id} is not ready: run a new sandbox`);
    const plan = planContainer(req.config);
    const view = await this.d.images.find(plan.image);
    if (!view)
      throw new CriError(status.NOT_FOUND, `image "${plan.image}" not found: pull it first (PullImage)`);
    let targetPid: number | undefined;
    if (plan.pidMode === 'TARGET') {
      const target = await this.get(plan.pidTarget);
      if (target.state.status !== 'running')
        throw new CriError(
          status.FAILED_PRECONDITION,
          `target container ${target.id} of the PID namespace is not running`,
        );
      targetPid = target.state.pid;
    }
    const { store } = this.d;
    const id = randomId();
    const key = containerKey(sb.id, plan.name, plan.attempt);
    store.reserve(key, id);
    const paths = this.paths(id);
    const cgroupParent = path.posix.dirname(sb.cgroupsPath);
    const facts: PodFacts = {
      infraPid: sb.state.pid,
      ...(sb.netns ? { netns: sb.netns } : {}),
      hostNetwork: sb.namespaces.network === 'NODE',
      hostIpc: sb.namespaces.ipc === 'NODE',
      hostname: sb.hostname,
      etcFiles: pod.etcFiles,
      ...(pod.shm ? { shm: pod.shm } : {}),
      cgroupParent,
    };
    const logDir = String((sb.config as Msg)?.log_directory ?? '');
    if (plan.logPath && !logDir.startsWith('/'))
      throw new CriError(
        status.INVALID_ARGUMENT,
        `config.log_path: the pod sandbox has no absolute log_directory ("${logDir}") to put "${plan.logPath}" in`,
      );
    try {
      await fsp.mkdir(paths.dir, { recursive: true, mode: 0o700 });
      const lower = await this.d.images.lowerDirs(view);
      await mountOverlay({
        lower,
        layersRoot: this.d.images.layersRoot,
        upper: paths.upper,
        work: paths.work,
        target: paths.merged,
      });
      const imageName = view.repoTags[0] ?? view.id;
      const spec = await writeContainerBundle({
        id,
        sandboxId: sb.id,
        plan: {
          ...plan,
          pidMode: plan.pidMode === 'POD' && sb.namespaces.pid !== 'POD' ? 'CONTAINER' : plan.pidMode,
        },
        image: view.config,
        imageName,
        pod: facts,
        paths,
        ...(targetPid ? { targetPid } : {}),
        minOomScoreAdj: await ownOomScoreAdj(),
      });
      const rec: CriContainerRecord = {
        id,
        key,
        sandboxId: sb.id,
        metadata: { name: plan.name, attempt: plan.attempt },
        image: { image: plan.image, annotations: { ...(req.config.image?.annotations ?? {}) } },
        imageId: view.id,
        labels: plan.labels,
        annotations: plan.annotations,
        createdAt: nowNs(),
        logPath: plan.logPath ? path.join(logDir, plan.logPath) : '',
        mounts: plan.mounts,
        resources: plan.resources,
        pidMode: plan.pidMode,
        cgroupsPath: spec.linux.cgroupsPath,
        runtimeHandler: sb.runtimeHandler,
        stopSignal: view.config.config?.StopSignal || 'SIGTERM',
        tty: plan.tty,
        stdin: plan.stdin,
        stdinOnce: plan.stdinOnce,
        user: {
          uid: spec.process.user.uid,
          gid: spec.process.user.gid,
          additionalGids: spec.process.user.additionalGids ?? [],
        },
        config: req.config,
        state: { status: 'created' },
      };
      // The record is the commit point: a crash before it leaves an orphan (recover undoes it).
      await store.put(rec);
      this.#emit('CONTAINER_CREATED_EVENT', rec);
      return id;
    } catch (err) {
      await this.#unmountAll(id);
      await store.remove(id).catch(() => {});
      store.release(key, id);
      throw err;
    }
  }

  /** Every mount below the container's directory (the rootfs, and what a crash left). */
  async #unmountAll(id: string): Promise<void> {
    const dir = this.d.store.dir(id);
    const mountinfo = await fsp.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
    const below = mountinfo
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of below) await unmount(m).catch(() => {});
  }

  async start(ref: string): Promise<void> {
    const { id } = this.#must(ref);
    await this.#lock.run(id, async () => {
      const rec = this.#must(id);
      if (rec.state.status !== 'created')
        throw new CriError(
          status.FAILED_PRECONDITION,
          `container ${id} is ${rec.state.status === 'running' ? 'already running' : 'exited'}: only a created container can start`,
        );
      const sb = this.d.pod(rec.sandboxId)?.record;
      if (sb?.state.status !== 'ready')
        throw new CriError(
          status.FAILED_PRECONDITION,
          `pod sandbox ${rec.sandboxId} of container ${id} is not ready`,
        );
      const paths = this.paths(id);
      const { runtime } = this.d;
      // After a host reboot the mount is gone: mount it again.
      const mountinfo = await fsp.readFile('/proc/self/mountinfo', 'utf8');
      if (!mountinfo.split('\n').some((l) => l.split(' ')[4] === paths.merged)) {
        const view = await this.d.images.find(rec.imageId);
        if (!view) throw new CriError(status.NOT_FOUND, `image ${rec.imageId} of container ${id} is gone`);
        await mountOverlay({
          lower: await this.d.images.lowerDirs(view),
          layersRoot: this.d.images.layersRoot,
          upper: paths.upper,
          work: paths.work,
          target: paths.merged,
        });
      }
      const logPath = rec.logPath || paths.ownLog;
      // The kubelet makes the pod's log directory; the container's own folder is ours to make (containerd too).
      await fsp.mkdir(path.dirname(logPath), { recursive: true, mode: 0o755 });
      let created = false;
      try {
        const { pid, conmonPid } = await runtime.create({
          id,
          name: rec.key,
          bundle: paths.bundle,
          logPath,
          terminal: rec.tty,
          stdin: rec.stdin,
          ...(rec.stdin && !rec.stdinOnce ? { leaveStdinOpen: true } : {}),
          ...(rec.runtimeHandler ? { runtime: rec.runtimeHandler } : {}),
        });
        created = true;
        await runtime.start(id);
        const next: CriContainerRecord = {
          ...rec,
          state: { status: 'running', pid, conmonPid, startedAt: nowNs() },
        };
        await this.d.store.put(next);
        this.#emit('CONTAINER_STARTED_EVENT', next);
      } catch (err) {
        // As containerd: a container that failed to start is exited with code 128 and the error.
        if (created) await runtime.delete(id, true).catch(() => {});
        await runtime.clearExit(id).catch(() => {});
        await unmount(paths.merged).catch(() => {});
        const message = (err as Error).message;
        await this.d.store.put({
          ...rec,
          state: {
            status: 'exited',
            startedAt: '0',
            finishedAt: nowNs(),
            exitCode: 128,
            reason: 'Error',
            message,
          },
        });
        throw new CriError(status.UNKNOWN, `failed to start container ${id}: ${message}`);
      }
    });
  }

  /** Waits (bounded) until the container's process has ended; true when it has. */
  async #exited(id: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (await this.d.runtime.exitCode(id)) return true;
      const st = await this.d.runtime.state(id);
      if (!st || st.status === 'stopped') return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The stop signal, then SIGKILL after `timeoutS` (exit 137); a stopped or absent one succeeds. */
  async stop(ref: string, timeoutS: number): Promise<void> {
    if (!ref) throw new CriError(status.INVALID_ARGUMENT, 'container_id: must not be empty');
    const found = this.d.store.find(ref);
    if (!found) return;
    const rec = await this.#refresh(found.id);
    if (rec?.state.status !== 'running') return;
    const { runtime } = this.d;
    if (timeoutS > 0) {
      await runtime.kill(rec.id, rec.stopSignal).catch(() => {});
      if (await this.#exited(rec.id, timeoutS * 1000)) {
        await this.#refresh(rec.id);
        return;
      }
    }
    await runtime.kill(rec.id, 'SIGKILL', true).catch(() => {});
    if (!(await this.#exited(rec.id, KILL_WAIT_MS)))
      throw new CriError(status.DEADLINE_EXCEEDED, `container ${rec.id} did not end after SIGKILL`);
    await this.#refresh(rec.id);
  }

  /** Stops (at once) and removes; an absent container succeeds. */
  async remove(ref: string): Promise<void> {
    if (!ref) throw new CriError(status.INVALID_ARGUMENT, 'container_id: must not be empty');
    const found = this.d.store.find(ref);
    if (!found) return;
    await this.stop(found.id, 0);
    await this.#lock.run(found.id, async () => {
      const rec = this.d.store.get(found.id);
      if (!rec) return;
      // A created container may hold a runc state after a crash mid-start.
      await this.d.runtime.delete(rec.id, true).catch(() => {});
      await this.d.runtime.clearExit(rec.id);
      await this.#unmountAll(rec.id);
      await this.d.store.remove(rec.id);
      this.#emit('CONTAINER_DELETED_EVENT', rec);
    });
  }

  /** StopPodSandbox: every container of the pod ends at once (as containerd). */
  async stopAllOf(sandboxId: string): Promise<void> {
    for (const r of this.d.store.all()) if (r.sandboxId === sandboxId) await this.stop(r.id, 0);
  }

  /** RemovePodSandbox: every container of the pod goes. */
  async removeAllOf(sandboxId: string): Promise<void> {
    for (const r of this.d.store.all()) if (r.sandboxId === sandboxId) await this.remove(r.id);
  }

  /** Containers that use an image (so RemoveImage of a running one's image is refused). */
  usersOf(imageId: string): { id: string; running: boolean }[] {
    return this.d.store
      .all()
      .filter((r) => r.imageId === imageId)
      .map((r) => ({ id: r.id, running: r.state.status === 'running' }));
  }

  async list(filter: Msg): Promise<Msg[]> {
    const wantId = String(filter?.id ?? '');
    const wantPod = String(filter?.pod_sandbox_id ?? '');
    const wantState = filter?.state ? String(filter.state.state) : undefined;
    const selector = Object.entries((filter?.label_selector ?? {}) as Record<string, string>);
    const out: Msg[] = [];
    for (const r of this.d.store.all()) {
      if (wantId && !r.id.startsWith(wantId)) continue;
      if (wantPod && !r.sandboxId.startsWith(wantPod)) continue;
      if (selector.some(([k, v]) => r.labels[k] !== v)) continue;
      const rec = await this.#refresh(r.id);
      if (!rec) continue;
      const item = listItem(rec);
      if (wantState && item.state !== wantState) continue;
      out.push(item);
    }
    return out.sort((a, b) => (BigInt(a.created_at) < BigInt(b.created_at) ? -1 : 1));
  }

  async status(ref: string, verbose: boolean): Promise<Msg> {
    return containerStatus(this, await this.get(ref), verbose);
  }

  /** ReopenContainerLog: conmon reopens its log file (after the kubelet rotated it). */
  async reopenLog(ref: string): Promise<void> {
    const rec = await this.get(ref);
    if (rec.state.status !== 'running')
      throw new CriError(status.FAILED_PRECONDITION, `container ${rec.id} is not running: its log is closed`);
    await this.d.runtime.reopenLog(this.paths(rec.id).bundle);
  }
}
