// Restart recovery: at daemon start, containers still running under their monitors are
// adopted, the ones that exited (or whose start or removal a crash cut short) are settled, and
// afterwards restart policies start what should run again.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CgroupPaths } from '../runtime/index.ts';
import { CP_STAGING_JOURNAL, sweepStaging } from './archive.ts';
import { teardownRootfs } from './bundle.ts';
import { settleLeftovers } from './leftovers.ts';
import type { ContainerLogHooks } from './log-hooks.ts';
import { referenceMounts } from './mounts.ts';
import type { ContainerRecord, ContainerState } from './record.ts';
import { restartPolicy, restartsAtDaemonStart } from './restart.ts';
import type { ContainerServiceDeps } from './deps.ts';

/** What recovery needs of the container service. */
export interface RecoveryHost {
  readonly deps: Pick<ContainerServiceDeps, 'store' | 'volumes' | 'runtime' | 'network' | 'log'>;
  readonly logs: Pick<ContainerLogHooks, 'arm' | 'finishShipping'>;
  list(): ContainerRecord[];
  cgroup(rec: ContainerRecord): CgroupPaths;
  handleExit(id: string): Promise<void>;
  setState(rec: ContainerRecord, state: ContainerState): Promise<ContainerRecord>;
  /** What a removal releases after its commit point; idempotent. */
  finishRemoval(rec: ContainerRecord, dropAnonymous: boolean): Promise<void>;
  remove(id: string, opts: { force: boolean }): Promise<void>;
  start(id: string): Promise<void>;
}

/** Adopts containers still running under their monitors; settles the ones that exited. */
export async function recoverContainers(host: RecoveryHost): Promise<void> {
  const { deps } = host;
  referenceMounts(deps.volumes, host.list());
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  // Removals committed before a crash: release what they still held.
  for (const p of [...deps.store.pendingRemovals()]) {
    deps.log('info', 'finishing a removal cut short', { id: p.rec.id });
    await settleLeftovers(
      deps,
      host.cgroup(p.rec),
      p.rec,
      mountinfo,
      deps.store.removedDir(p.rec.id, p.dropAnonymous),
    );
    await host
      .finishRemoval(p.rec, p.dropAnonymous)
      .catch((err) => deps.log('warn', 'finishing removal failed', { id: p.rec.id, err: String(err) }));
  }
  for (const rec of host.list()) {
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
      await settleLeftovers(deps, host.cgroup(rec), rec, mountinfo);
      // Lines an exit left undelivered when berthd went down.
      host.logs.finishShipping(rec);
      continue;
    }
    await recoverLive(host, rec);
  }
  // Docker's restore: an AutoRemove (--rm) container that is not running is removed, also one
  // a crash left created or half-started (its leftovers were settled above).
  for (const rec of host.list()) {
    if (!rec.hostConfig.AutoRemove || rec.state.status === 'running' || rec.state.status === 'paused')
      continue;
    deps.log('info', 'removing a --rm container that is not running', { id: rec.id });
    await host
      .remove(rec.id, { force: true })
      .catch((err) => deps.log('warn', 'removing --rm container failed', { id: rec.id, err: String(err) }));
  }
}

/** A container whose record says running: adopt it, settle its exit, or mark its monitor lost. */
async function recoverLive(host: RecoveryHost, rec: ContainerRecord): Promise<void> {
  const { deps } = host;
  const state = rec.state;
  if (state.status !== 'running' && state.status !== 'paused') return;
  try {
    deps.runtime.bind(rec.id, rec.hostConfig.Runtime);
  } catch (err) {
    // Its runtime was removed from daemon.json: runc's state root is still the best guess.
    deps.log('warn', 'container runtime no longer configured', { id: rec.id, err: String(err) });
  }
  if (await deps.runtime.exitCode(rec.id)) {
    await host.handleExit(rec.id);
    return;
  }
  const st = await deps.runtime.state(rec.id);
  if (st && (st.status === 'running' || st.status === 'paused')) {
    deps.log('info', 'adopted running container', { id: rec.id, pid: st.pid });
    host.logs.arm(rec);
    if (rec.daemonPaused) {
      // A pause berthd took for itself (commit, a cp freeze) outlived it: undo it.
      deps.log('info', 'resuming a container berthd had paused', { id: rec.id, by: rec.daemonPaused });
      if (st.status === 'paused') await deps.runtime.resume(rec.id).catch(() => {});
      const { daemonPaused: _d, ...rest } = rec;
      await host.setState(rest, { ...state, status: 'running' });
    } else if (st.status !== state.status) {
      await host.setState(rec, { ...state, status: st.status });
    }
    // A cp cut short by the crash left staging entries in the rootfs or a mount: remove them
    // (a stopped container's are removed by its next cp, when its rootfs is mounted).
    const swept = await sweepStaging(path.join(deps.store.dir(rec.id), CP_STAGING_JOURNAL)).catch(() => 0);
    if (swept > 0) deps.log('info', 'removed what a cut-short cp staged', { id: rec.id, entries: swept });
    return;
  }
  // The monitor and the process are gone without an exit file (e.g. the host rebooted).
  const now = new Date().toISOString();
  await deps.runtime.delete(rec.id, true).catch(() => {});
  await teardownRootfs(deps, rec).catch(() => {});
  await deps.network?.detach(rec.id).catch(() => {});
  const { daemonPaused: _d, ...rest } = rec;
  await host.setState(rest, {
    status: 'exited',
    exitCode: 255,
    startedAt: state.startedAt,
    finishedAt: now,
    error: 'the container monitor was gone when berthd started; exit status unknown',
  });
}

/** Restart policies at daemon start: always, and unless-stopped unless a user stopped it
 * (containers that exited while berthd was down included). */
export async function startAfterRecovery(host: Pick<RecoveryHost, 'deps' | 'list' | 'start'>): Promise<void> {
  for (const rec of host.list()) {
    if (rec.state.status !== 'exited') continue;
    const wanted =
      rec.restarting === true ||
      restartsAtDaemonStart(restartPolicy(rec.hostConfig), rec.stoppedByUser === true);
    if (!wanted) continue;
    host.deps.log('info', 'starting container by its restart policy', { id: rec.id });
    await host
      .start(rec.id)
      .catch((err) => host.deps.log('warn', 'restart at start-up failed', { id: rec.id, err: String(err) }));
  }
}
