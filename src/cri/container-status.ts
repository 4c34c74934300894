// The CRI messages of a container record: the ListContainers item and ContainerStatusResponse
// (containerd's fields: image by its first tag, image_ref by its repo digest, verbose info JSON).
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { formatReference, parseReference } from '../oci/reference.ts';
import type { ContainerState, CriContainerRecord } from './container-store.ts';
import type { CriContainers } from './containers.ts';
import type { Msg } from './server.ts';

const CRI_STATE: Record<ContainerState['status'], string> = {
  created: 'CONTAINER_CREATED',
  running: 'CONTAINER_RUNNING',
  exited: 'CONTAINER_EXITED',
};

export function listItem(rec: CriContainerRecord): Msg {
  return {
    id: rec.id,
    pod_sandbox_id: rec.sandboxId,
    metadata: rec.metadata,
    image: { image: rec.image.image, annotations: rec.image.annotations },
    image_ref: rec.imageId,
    image_id: rec.imageId,
    state: CRI_STATE[rec.state.status],
    created_at: rec.createdAt,
    labels: rec.labels,
    annotations: rec.annotations,
  };
}

/** ContainerStatusResponse of a record (also of one just removed, for its event). */
export async function containerStatus(
  c: CriContainers,
  rec: CriContainerRecord,
  verbose = false,
): Promise<Msg> {
  const view = await c.d.images.find(rec.imageId);
  const st = rec.state;
  const qualify = (n: string) => formatReference(parseReference(n));
  const tag = view?.repoTags[0];
  const digest = view?.repoDigests[0];
  const out: Msg = {
    status: {
      id: rec.id,
      metadata: rec.metadata,
      state: CRI_STATE[st.status],
      created_at: rec.createdAt,
      started_at: st.status === 'created' ? '0' : st.startedAt,
      finished_at: st.status === 'exited' ? st.finishedAt : '0',
      exit_code: st.status === 'exited' ? st.exitCode : 0,
      image: { image: tag ? qualify(tag) : rec.image.image, annotations: rec.image.annotations },
      image_ref: digest ? qualify(digest) : rec.imageId,
      image_id: rec.imageId,
      reason: st.status === 'exited' ? st.reason : '',
      message: st.status === 'exited' ? st.message : '',
      labels: rec.labels,
      annotations: rec.annotations,
      mounts: rec.mounts.map((m) => ({
        container_path: m.containerPath,
        host_path: m.hostPath,
        readonly: m.readonly,
        selinux_relabel: false,
        propagation: m.propagation,
      })),
      log_path: rec.logPath,
      resources: { linux: resourcesMsg(rec.resources) },
      user: {
        linux: { uid: rec.user.uid, gid: rec.user.gid, supplemental_groups: rec.user.additionalGids },
      },
    },
    info: {},
  };
  if (verbose) {
    const spec = await fsp
      .readFile(path.join(c.paths(rec.id).bundle, 'config.json'), 'utf8')
      .catch(() => 'null');
    out.info = {
      info: JSON.stringify({
        sandboxID: rec.sandboxId,
        pid: st.status === 'running' ? st.pid : 0,
        removing: false,
        snapshotKey: rec.id,
        snapshotter: 'overlayfs',
        runtimeType: 'io.containerd.runc.v2',
        runtimeHandler: rec.runtimeHandler,
        config: rec.config,
        runtimeSpec: JSON.parse(spec),
      }),
    };
  }
  return out;
}

export function resourcesMsg(r: CriContainerRecord['resources']): Msg {
  return {
    cpu_period: r.cpuPeriod,
    cpu_quota: r.cpuQuota,
    cpu_shares: r.cpuShares,
    memory_limit_in_bytes: r.memoryLimit,
    memory_swap_limit_in_bytes: r.memorySwapLimit,
    oom_score_adj: r.oomScoreAdj,
    cpuset_cpus: r.cpusetCpus,
    cpuset_mems: r.cpusetMems,
    hugepage_limits: [],
    unified: {},
  };
}
