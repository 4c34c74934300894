// Pod sandboxes: RunPodSandbox / StopPodSandbox / RemovePodSandbox / PodSandboxStatus /
// ListPodSandbox. The infra process is the static pause program run through conmon + runc, the
// same monitor and runtime as Docker containers; it holds the pod's UTS and IPC namespaces (and
// PID for a shared-PID pod), and joins a pinned netns berthd made with loopback up, which CNI
// (cni/network.ts) plugs into the pod network before the infra process starts. A sandbox is
// ready while its infra process runs; that state is read from the runtime, so a berthd restart
// reports what really runs.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { crashPoint } from '../base/crashpoint.ts';
import { span } from '../base/trace.ts';
import { randomId } from '../base/ids.ts';
import { KeyedMutex } from '../base/lock.ts';
import type { Log } from '../base/log.ts';
import type { CreateOptions, RuntimeState } from '../runtime/index.ts';
import { CriError } from './errors.ts';
import { ownOomScoreAdj, sandboxFiles, writeSandboxBundle } from './sandbox-bundle.ts';
import { planSandbox } from './sandbox-config.ts';
import { mountPodShm, unmountPodShm } from './sandbox-shm.ts';
import { podKey, type SandboxRecord, type SandboxStore } from './sandbox-store.ts';
import type { Handlers, Msg } from './server.ts';

/** What sandboxes need of the OCI runtime driver (ConmonRuntime has it all). */
export interface SandboxRuntime {
  resolveRuntime(name?: string): { readonly name: string };
  bind(id: string, runtimeName: string | undefined): unknown;
  create(c: CreateOptions): Promise<{ pid: number; conmonPid: number }>;
  start(id: string): Promise<void>;
  kill(id: string, signal: string, all?: boolean): Promise<void>;
  delete(id: string, force?: boolean): Promise<void>;
  state(id: string): Promise<RuntimeState | undefined>;
  exitCode(id: string): Promise<{ code: number; at: Date } | undefined>;
  clearExit(id: string): Promise<void>;
}

/** Pinned network namespaces (network/netns.ts). */
export interface SandboxNetns {
  create(file: string): Promise<void>;
  remove(file: string): Promise<void>;
}

/** The pod network (CNI, wired in cri-wiring.ts). */
export interface SandboxNetwork {
  /** Refuses a config the network cannot take (port mappings), before anything is made. */
  validate(config: Msg): void;
  /** ADD; the pod's IPs, or undefined when no network is configured (loopback only). */
  setup(id: string, netns: string, config: Msg): Promise<readonly string[] | undefined>;
  /** DEL with what ADD used; nothing set up is fine. */
  teardown(id: string): Promise<void>;
  /** Sandbox IDs whose network may still need DEL. */
  pending(): Promise<string[]>;
}

export interface SandboxServiceDeps {
  readonly store: SandboxStore;
  readonly runtime: SandboxRuntime;
  readonly netns: SandboxNetns;
  /** Where pinned pod netns files go (not the Docker networks' netns folder). */
  readonly netnsDir: string;
  /** berthd's --cgroup-parent, for pods that name none. */
  readonly cgroupParent: string;
  /** The static pause program (dist/berth-pause); undefined when it was not built. */
  readonly pauseBinary: string | undefined;
  readonly log: Log;
  /** The pod network; undefined: pods have loopback only. */
  readonly network?: SandboxNetwork;
  /** Where pod /dev/shm tmpfs go (under the exec root); undefined: pods get none of their own. */
  readonly shmDir?: string;
  /** Called before a sandbox goes, to remove the pod's containers. */
  readonly removeContainersOf?: (sandboxId: string) => Promise<void>;
  /** Called before the infra process is stopped, to end the pod's containers. */
  readonly stopContainersOf?: (sandboxId: string) => Promise<void>;
}

/** How long StopPodSandbox waits for the infra process after SIGTERM, then after SIGKILL. */
const STOP_GRACE_MS = 2000;
const KILL_WAIT_MS = 5000;

function nowNs(): string {
  return (BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)).toString();
}

export class SandboxService {
  readonly #d: SandboxServiceDeps;
  readonly #lock = new KeyedMutex();

  constructor(deps: SandboxServiceDeps) {
    this.#d = deps;
  }

  netnsPath(id: string): string {
    return path.join(this.#d.netnsDir, id);
  }

  /**
   * Start-up: a run a crash cut short (a directory without a record) is undone; a ready
   * sandbox whose infra process ended while berthd was down becomes not ready.
   */
  async recover(): Promise<void> {
    const { store, runtime, log } = this.#d;
    for (const id of store.orphans.splice(0)) {
      log('info', 'removing a pod sandbox a crash left half made', { id });
      await runtime.delete(id, true).catch(() => {});
      await runtime.clearExit(id).catch(() => {});
      await this.#teardownNetwork(id);
      await this.#d.netns.remove(this.netnsPath(id)).catch(() => {});
      if (this.#d.shmDir) await unmountPodShm(path.join(this.#d.shmDir, id)).catch(() => {});
      await store.remove(id);
    }
    for (const rec of store.all()) {
      try {
        runtime.bind(rec.id, rec.runtimeHandler || undefined);
      } catch {
        // a handler removed from daemon.json: runc's root still finds the state
      }
      await this.#refresh(rec.id);
    }
    // A netns or shm a run made before its sandbox folder existed (berthd killed in between).
    for (const [dir, undo] of [
      [this.#d.netnsDir, (f: string) => this.#d.netns.remove(f)],
      [this.#d.shmDir, unmountPodShm],
    ] as const) {
      if (!dir) continue;
      for (const id of await fsp.readdir(dir).catch(() => [] as string[])) {
        if (store.get(id) || !/^[a-f0-9]{64}$/.test(id)) continue;
        log('info', 'removing what a pod sandbox run a crash cut short left', { id, dir });
        await this.#teardownNetwork(id);
        await undo(path.join(dir, id)).catch(() => {});
      }
    }
    // A network a stop or removal set up but did not finish tearing down (berthd was killed).
    for (const id of (await this.#d.network?.pending()) ?? []) {
      const rec = store.get(id);
      if (rec && (rec.state.status === 'ready' || rec.netns)) continue;
      log('info', 'finishing the CNI teardown of a pod sandbox stopped or removed while berthd was down', {
        id,
      });
      await this.#teardownNetwork(id);
    }
  }

  /** DEL on a recovery path: a failure is logged and left for the next start or Stop. */
  async #teardownNetwork(id: string): Promise<void> {
    await this.#d.network
      ?.teardown(id)
      .catch((err: Error) => this.#d.log('warn', 'CNI teardown failed', { id, error: err.message }));
  }

  /** Reads the infra process's real state; a ready record whose process ended is settled. */
  async #refresh(id: string): Promise<SandboxRecord | undefined> {
    const rec = this.#d.store.get(id);
    if (rec?.state.status !== 'ready') return rec;
    const exit = await this.#d.runtime.exitCode(id);
    if (!exit) {
      const st = await this.#d.runtime.state(id);
      if (st && (st.status === 'running' || st.status === 'paused')) return rec;
    }
    return this.#lock.run(id, () => this.#settleExit(id, exit?.code));
  }

  /** The infra process is gone: the runtime state goes; the netns stays until Stop (CNI teardown). */
  async #settleExit(id: string, code: number | undefined): Promise<SandboxRecord | undefined> {
    const rec = this.#d.store.get(id);
    if (rec?.state.status !== 'ready') return rec;
    await this.#d.runtime.delete(id, true).catch(() => {});
    await this.#d.runtime.clearExit(id);
    const next: SandboxRecord = {
      ...rec,
      state: {
        status: 'notready',
        ...(code !== undefined ? { exitCode: code } : {}),
        finishedAt: new Date().toISOString(),
      },
    };
    await this.#d.store.put(next);
    return next;
  }

  async run(req: Msg): Promise<string> {
    const { store, runtime } = this.#d;
    const plan = planSandbox(req.config);
    const handler = String(req.runtime_handler ?? '');
    runtime.resolveRuntime(handler || undefined); // an unknown handler fails before anything is made
    if (plan.namespaces.network === 'POD') this.#d.network?.validate(req.config);
    if (!this.#d.pauseBinary)
      throw new CriError(
        status.FAILED_PRECONDITION,
        'the pause program (berth-pause) was not built beside berthd: install gcc and rebuild (npm run build)',
      );
    const id = randomId();
    const key = podKey(plan.metadata);
    store.reserve(key, id);
    const files = sandboxFiles(store.dir(id));
    const netns = plan.namespaces.network === 'POD' ? this.netnsPath(id) : undefined;
    const cgroupsPath = `${plan.cgroupParent || this.#d.cgroupParent}/${id}`;
    const shm = plan.namespaces.ipc === 'POD' && this.#d.shmDir ? path.join(this.#d.shmDir, id) : undefined;
    let created = false;
    let ips: readonly string[] = [];
    try {
      // Spans (berthd --trace) name each step, so `npm run bench:cri -- --trace` can attribute the time.
      if (netns) await span('cri.pod-netns', () => this.#d.netns.create(netns));
      // CNI ADD once the netns exists and before the infra process starts in it.
      if (netns && this.#d.network) {
        const network = this.#d.network;
        ips = (await span('cri.pod-cni-add', () => network.setup(id, netns, req.config))) ?? [];
      }
      crashPoint('pod-run:after-cni-add');
      if (shm) await span('cri.pod-shm', () => mountPodShm(shm));
      await writeSandboxBundle(files, {
        plan,
        pauseBinary: this.#d.pauseBinary,
        cgroupsPath,
        ...(netns ? { netns } : {}),
        ...(shm ? { shm } : {}),
        minOomScoreAdj: await ownOomScoreAdj(),
      });
      const { pid, conmonPid } = await runtime.create({
        id,
        name: key,
        bundle: files.bundle,
        logPath: path.join(files.dir, 'pause.log'),
        ...(handler ? { runtime: handler } : {}),
      });
      created = true;
      await runtime.start(id);
      // The record is the commit point: a crash before it leaves an orphan directory, which
      // the next start undoes (recover).
      await store.put({
        id,
        key,
        metadata: plan.metadata,
        labels: plan.labels,
        annotations: plan.annotations,
        createdAt: nowNs(),
        runtimeHandler: handler,
        namespaces: plan.namespaces,
        hostname: plan.hostname,
        cgroupsPath,
        ...(netns ? { netns } : {}),
        ...(ips.length ? { ips } : {}),
        ...(shm ? { shm } : {}),
        config: req.config,
        state: { status: 'ready', pid, conmonPid },
      });
      return id;
    } catch (err) {
      if (created) await runtime.delete(id, true).catch(() => {});
      await runtime.clearExit(id).catch(() => {});
      if (netns) await this.#teardownNetwork(id);
      if (shm) await unmountPodShm(shm).catch(() => {});
      if (netns) await this.#d.netns.remove(netns).catch(() => {});
      await store.remove(id).catch(() => {});
      store.release(key, id);
      throw err;
    }
  }

  #must(ref: string, field = 'pod_sandbox_id'): SandboxRecord {
    if (!ref) throw new CriError(status.INVALID_ARGUMENT, `${field}: must not be empty`);
    const rec = this.#d.store.find(ref);
    if (!rec) throw new CriError(status.NOT_FOUND, `pod sandbox ${ref} not found`);
    return rec;
  }

  /** Ends the infra process and the pod's network; stopping a stopped sandbox succeeds. */
  async stop(ref: string): Promise<void> {
    const { id } = this.#must(ref);
    await this.#d.stopContainersOf?.(id);
    await this.#lock.run(id, async () => {
      const rec = this.#d.store.get(id);
      if (!rec) throw new CriError(status.NOT_FOUND, `pod sandbox ${ref} not found`);
      let code = rec.state.status === 'notready' ? rec.state.exitCode : undefined;
      if (rec.state.status === 'ready') code = await this.#endInfra(id);
      crashPoint('pod-stop:before-cni-del');
      // CNI DEL (with the cached config and result) while the netns still exists, then the netns.
      await this.#d.network?.teardown(id);
      if (rec.netns) await this.#d.netns.remove(rec.netns);
      if (rec.shm) await unmountPodShm(rec.shm);
      const { netns: _gone, ips: _released, shm: _unmounted, ...rest } = rec;
      await this.#d.store.put({
        ...rest,
        state: {
          status: 'notready',
          ...(code !== undefined ? { exitCode: code } : {}),
          finishedAt:
            rec.state.status === 'notready' && rec.state.finishedAt
              ? rec.state.finishedAt
              : new Date().toISOString(),
        },
      });
    });
  }

  /** SIGTERM, then SIGKILL after a grace; resolves with the exit code once runc state is gone. */
  async #endInfra(id: string): Promise<number | undefined> {
    const { runtime } = this.#d;
    const exited = async (ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const e = await runtime.exitCode(id);
        if (e) return e;
        const st = await runtime.state(id);
        if (!st || st.status === 'stopped')
          return (await runtime.exitCode(id)) ?? { code: -1, at: new Date() };
        if (Date.now() > deadline) return undefined;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await runtime.kill(id, 'SIGTERM').catch(() => {});
    let exit = await exited(STOP_GRACE_MS);
    if (!exit) {
      await runtime.kill(id, 'SIGKILL', true).catch(() => {});
      exit = await exited(KILL_WAIT_MS);
    }
    await runtime.delete(id, true);
    await runtime.clearExit(id);
    return exit && exit.code >= 0 ? exit.code : undefined;
  }

  /** Stops (if needed) and removes the sandbox and its containers; an absent one succeeds. */
  async remove(ref: string): Promise<void> {
    if (!ref) throw new CriError(status.INVALID_ARGUMENT, 'pod_sandbox_id: must not be empty');
    const found = this.#d.store.find(ref);
    if (!found) return;
    await this.#d.removeContainersOf?.(found.id);
    await this.stop(found.id);
    await this.#lock.run(found.id, () => this.#d.store.remove(found.id));
  }

  async status(ref: string, verbose: boolean): Promise<Msg> {
    const rec = await this.#refresh(this.#must(ref).id);
    if (!rec) throw new CriError(status.NOT_FOUND, `pod sandbox ${ref} not found`);
    const out: Msg = {
      status: {
        ...this.#listItem(rec),
        // The CNI result's addresses; a stopped sandbox reports an empty IP.
        network: podIps(rec),
        linux: { namespaces: { options: { ...rec.namespaces, target_id: '' } } },
      },
      info: {},
      containers_statuses: [],
      timestamp: nowNs(),
    };
    if (verbose) {
      out.info = {
        info: JSON.stringify({
          pid: rec.state.status === 'ready' ? rec.state.pid : 0,
          processStatus: rec.state.status === 'ready' ? 'running' : 'stopped',
          netNamespacePath: rec.netns ?? '',
          runtimeHandler: rec.runtimeHandler,
          cgroupsPath: rec.cgroupsPath,
          config: rec.config,
        }),
      };
    }
    return out;
  }

  /** The pod's /dev/shm tmpfs while it has one (its containers bind it at /dev/shm). */
  shmPath(id: string): string | undefined {
    return this.#d.store.get(id)?.shm;
  }

  #listItem(rec: SandboxRecord): Msg {
    return {
      id: rec.id,
      metadata: rec.metadata,
      state: rec.state.status === 'ready' ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
      created_at: rec.createdAt,
      labels: rec.labels,
      annotations: rec.annotations,
      runtime_handler: rec.runtimeHandler,
    };
  }

  async list(filter: Msg): Promise<Msg[]> {
    const out: Msg[] = [];
    const wantId = String(filter?.id ?? '');
    const wantState = filter?.state ? String(filter.state.state) : undefined;
    const selector = Object.entries((filter?.label_selector ?? {}) as Record<string, string>);
    for (const r of this.#d.store.all()) {
      if (wantId && !r.id.startsWith(wantId)) continue;
      if (selector.some(([k, v]) => r.labels[k] !== v)) continue;
      const rec = await this.#refresh(r.id);
      if (!rec) continue;
      const item = this.#listItem(rec);
      if (wantState && item.state !== wantState) continue;
      out.push(item);
    }
    return out.sort((a, b) => (BigInt(a.created_at) < BigInt(b.created_at) ? -1 : 1));
  }

  /**
   * Where a PortForward connects: the pinned netns of a ready pod, or 'host' for a pod on the
   * node's network. NOT_FOUND / FAILED_PRECONDITION otherwise.
   */
  async forwardTarget(ref: string): Promise<{ id: string; netns: string | 'host' }> {
    const rec = await this.#refresh(this.#must(ref).id);
    if (!rec) throw new CriError(status.NOT_FOUND, `pod sandbox ${ref} not found`);
    if (rec.state.status !== 'ready')
      throw new CriError(
        status.FAILED_PRECONDITION,
        `pod sandbox ${rec.id} is not ready: its ports cannot be forwarded`,
      );
    if (rec.namespaces.network === 'NODE') return { id: rec.id, netns: 'host' };
    if (!rec.netns)
      throw new CriError(status.FAILED_PRECONDITION, `network namespace for pod sandbox ${rec.id} is closed`);
    return { id: rec.id, netns: rec.netns };
  }

  /** A sandbox by ID or unique prefix, with its pod files (containers mount them). */
  pod(ref: string): { record: SandboxRecord; files: ReturnType<typeof sandboxFiles> } | undefined {
    const record = this.#d.store.find(ref);
    return record ? { record, files: sandboxFiles(this.#d.store.dir(record.id)) } : undefined;
  }

  /** The infra process's pid while the sandbox is ready (containers join its namespaces). */
  infraPid(id: string): number | undefined {
    const rec = this.#d.store.get(id);
    return rec?.state.status === 'ready' ? rec.state.pid : undefined;
  }
}

/** The IPs while the pod's netns exists (as containerd: until StopPodSandbox removes it). */
function podIps(rec: SandboxRecord): Msg {
  const ips = rec.netns ? (rec.ips ?? []) : [];
  return { ip: ips[0] ?? '', additional_ips: ips.slice(1).map((ip) => ({ ip })) };
}

export function sandboxHandlers(svc: SandboxService): Handlers {
  return {
    RunPodSandbox: async (req) => ({ pod_sandbox_id: await svc.run(req) }),
    StopPodSandbox: async (req) => {
      await svc.stop(String(req.pod_sandbox_id ?? ''));
      return {};
    },
    RemovePodSandbox: async (req) => {
      await svc.remove(String(req.pod_sandbox_id ?? ''));
      return {};
    },
    PodSandboxStatus: (req) => svc.status(String(req.pod_sandbox_id ?? ''), req.verbose === true),
    ListPodSandbox: async (req) => ({ items: await svc.list(req.filter) }),
  };
}
