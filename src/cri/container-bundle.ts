// A CRI container's OCI bundle: the overlay rootfs over the image's layers (as Docker
// containers'), the pod's hostname/hosts/resolv.conf bound in, the pod's network, IPC and UTS
// namespaces joined (PID too when the pod shares it), the cgroup below the pod's parent, and
// the security context, mounts, devices and resources the kubelet asked for.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteJson } from '../base/atomic.ts';
import { hostBoundingCaps, hostDevices, statDevice } from '../containers/security.ts';
import { mkdirInRoot, readInRoot } from '../containers/rootfs.ts';
import type { ImageConfig } from '../oci/image.ts';
import {
  generateSpec,
  type OciLinuxDevice,
  type OciMount,
  type OciSpec,
  resolveUser,
} from '../runtime/index.ts';
import type { OciDeviceCgroup } from '../runtime/spec-types.ts';
import { invalidField } from './errors.ts';
import type { ContainerPlan, Propagation, ResourcesPlan } from './container-config.ts';
import { mergedEnv, processArgs } from './container-config.ts';

export function containerPaths(dir: string) {
  return {
    dir,
    bundle: path.join(dir, 'bundle'),
    upper: path.join(dir, 'rootfs', 'diff'),
    work: path.join(dir, 'rootfs', 'work'),
    merged: path.join(dir, 'rootfs', 'merged'),
    /** Where conmon writes when the kubelet gave no log path. */
    ownLog: path.join(dir, 'container.log'),
  };
}
export type ContainerPaths = ReturnType<typeof containerPaths>;

/** The pod facts a container's spec depends on (from its sandbox record). */
export interface PodFacts {
  readonly infraPid: number;
  /** The pinned netns; undefined with the host's network. */
  readonly netns?: string;
  readonly hostNetwork: boolean;
  readonly hostIpc: boolean;
  readonly hostname: string;
  /** The pod's hostname, hosts and resolv.conf files. */
  readonly etcFiles: readonly (readonly [string, string])[];
  /** A /dev/shm the pod holds for all its containers, if it has one. */
  readonly shm?: string;
  readonly cgroupParent: string;
}

export interface BundleInput {
  readonly id: string;
  readonly sandboxId: string;
  readonly plan: ContainerPlan;
  readonly image: ImageConfig;
  readonly imageName: string;
  readonly pod: PodFacts;
  readonly paths: ContainerPaths;
  /** The host pid of the container a pid TARGET names. */
  readonly targetPid?: number;
  /** The lowest oom_score_adj berthd may give (its own: no CAP_SYS_RESOURCE here). */
  readonly minOomScoreAdj: number;
}

const PROPAGATION_OPTION: Record<Propagation, string> = {
  PROPAGATION_PRIVATE: 'rprivate',
  PROPAGATION_HOST_TO_CONTAINER: 'rslave',
  PROPAGATION_BIDIRECTIONAL: 'rshared',
};

/** CRI resources as OCI linux.resources (unset fields left out). */
export function ociResources(r: ResourcesPlan): Record<string, unknown> {
  const cpu = {
    ...(r.cpuShares ? { shares: r.cpuShares } : {}),
    ...(r.cpuQuota ? { quota: r.cpuQuota } : {}),
    ...(r.cpuPeriod ? { period: r.cpuPeriod } : {}),
    ...(r.cpusetCpus ? { cpus: r.cpusetCpus } : {}),
    ...(r.cpusetMems ? { mems: r.cpusetMems } : {}),
  };
  const memory = {
    ...(r.memoryLimit ? { limit: r.memoryLimit } : {}),
    ...(r.memorySwapLimit ? { swap: r.memorySwapLimit } : {}),
  };
  return {
    ...(Object.keys(cpu).length ? { cpu } : {}),
    ...(Object.keys(memory).length ? { memory } : {}),
  };
}

async function seccompOf(plan: ContainerPlan): Promise<'default' | 'unconfined' | { custom: unknown }> {
  if (typeof plan.seccomp === 'string') return plan.seccomp;
  const file = plan.seccomp.localhost;
  try {
    return { custom: JSON.parse(await fsp.readFile(file, 'utf8')) };
  } catch (err) {
    throw invalidField(
      'config.linux.security_context.seccomp.localhost_ref',
      `cannot read the seccomp profile ${file}: ${(err as Error).message}`,
    );
  }
}

/** The user the process runs as: run_as_username, run_as_user[:run_as_group], else the image's. */
function userSpec(plan: ContainerPlan, image: ImageConfig): string {
  const group = plan.runAsGroup !== undefined ? `:${plan.runAsGroup}` : '';
  if (plan.runAsUsername) return `${plan.runAsUsername}${group}`;
  if (plan.runAsUser !== undefined) return `${plan.runAsUser}${group}`;
  return image.config?.User ?? '';
}

/** Writes config.json into the bundle (the rootfs must be mounted); returns the spec. */
export async function writeContainerBundle(input: BundleInput): Promise<OciSpec> {
  const { plan, pod, paths, image } = input;
  const merged = paths.merged;
  const [passwd, group] = await Promise.all([
    readInRoot(merged, '/etc/passwd'),
    readInRoot(merged, '/etc/group'),
  ]);
  let user: ReturnType<typeof resolveUser>;
  try {
    user = resolveUser(
      userSpec(plan, image),
      { ...(passwd !== undefined ? { passwd } : {}), ...(group !== undefined ? { group } : {}) },
      plan.supplementalGroups.map(String),
    );
  } catch (err) {
    throw invalidField('config.linux.security_context.run_as_username', (err as Error).message);
  }
  const cwd = plan.workingDir || image.config?.WorkingDir || '/';
  if (cwd !== '/') await mkdirInRoot(merged, cwd);
  const env = mergedEnv(plan, image.config, pod.hostname);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  const args = processArgs(plan, image.config);

  const own = new Set(plan.mounts.map((m) => m.containerPath));
  const mounts: OciMount[] = [];
  const etcOpts = ['rbind', 'rprivate', plan.readonlyRootfs ? 'ro' : 'rw'];
  for (const [dest, src] of pod.etcFiles)
    if (!own.has(dest)) mounts.push({ destination: dest, type: 'bind', source: src, options: etcOpts });
  if (pod.shm && !own.has('/dev/shm'))
    mounts.push({
      destination: '/dev/shm',
      type: 'bind',
      source: pod.shm,
      options: ['rbind', 'rprivate', 'rw'],
    });
  let rootfsPropagation: string | undefined;
  for (const m of plan.mounts) {
    // containerd makes a missing host path a directory (the kubelet relies on it for emptyDir).
    const st = await fsp.stat(m.hostPath).catch(() => undefined);
    if (!st) await fsp.mkdir(m.hostPath, { recursive: true, mode: 0o755 });
    const prop = PROPAGATION_OPTION[m.propagation];
    // A slave or shared mount needs the rootfs to propagate too (as containerd sets it).
    if (prop === 'rshared') rootfsPropagation = 'rshared';
    else if (prop === 'rslave' && rootfsPropagation !== 'rshared') rootfsPropagation = 'rslave';
    mounts.push({
      destination: m.containerPath,
      type: 'bind',
      source: m.hostPath,
      options: ['rbind', prop, ...(m.readonly ? ['ro'] : [])],
    });
  }
  const devices: OciLinuxDevice[] = [];
  const deviceRules: OciDeviceCgroup[] = [];
  for (const [i, d] of plan.devices.entries()) {
    let s: Awaited<ReturnType<typeof statDevice>>;
    try {
      s = await statDevice(d.hostPath);
    } catch (err) {
      throw invalidField(`config.devices[${i}].host_path`, (err as Error).message);
    }
    devices.push({
      path: d.containerPath,
      type: s.type,
      major: s.major,
      minor: s.minor,
      fileMode: s.mode,
      uid: 0,
      gid: 0,
    });
    deviceRules.push({ allow: true, type: s.type, major: s.major, minor: s.minor, access: d.permissions });
  }
  if (plan.privileged)
    devices.push(...(await hostDevices()).filter((d) => !devices.some((x) => x.path === d.path)));
  const nsPath = (ns: string) => `/proc/${pod.infraPid}/ns/${ns}`;
  const pidNs =
    plan.pidMode === 'NODE'
      ? 'host'
      : plan.pidMode === 'POD'
        ? nsPath('pid')
        : plan.pidMode === 'TARGET' && input.targetPid
          ? `/proc/${input.targetPid}/ns/pid`
          : undefined;
  const spec = generateSpec({
    rootfs: merged,
    readonlyRootfs: plan.readonlyRootfs,
    args,
    env,
    cwd,
    user,
    terminal: plan.tty,
    hostname: pod.hostname,
    cgroupsPath: `${pod.cgroupParent}/${input.id}`,
    mounts,
    capAdd: plan.capAdd,
    capDrop: plan.capDrop,
    allCaps: hostBoundingCaps(),
    privileged: plan.privileged,
    noNewPrivileges: plan.noNewPrivs,
    seccomp: await seccompOf(plan),
    devices,
    deviceRules,
    namespaces: {
      network: pod.hostNetwork ? 'host' : (pod.netns ?? nsPath('net')),
      ipc: pod.hostIpc ? 'host' : nsPath('ipc'),
      uts: pod.hostNetwork ? 'host' : nsPath('uts'),
      ...(pidNs ? { pid: pidNs } : {}),
    },
    oomScoreAdj: Math.max(plan.resources.oomScoreAdj, input.minOomScoreAdj),
    resources: ociResources(plan.resources),
    annotations: {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': plan.name,
      'io.kubernetes.cri.sandbox-id': input.sandboxId,
      'io.kubernetes.cri.image-name': input.imageName,
      ...plan.annotations,
    },
  });
  if (!plan.privileged) {
    if (plan.maskedPaths.length) spec.linux.maskedPaths = [...plan.maskedPaths];
    if (plan.readonlyPaths.length) spec.linux.readonlyPaths = [...plan.readonlyPaths];
  } else {
    spec.linux.maskedPaths = [];
    spec.linux.readonlyPaths = [];
  }
  const out: OciSpec = rootfsPropagation ? { ...spec, linux: { ...spec.linux, rootfsPropagation } } : spec;
  await fsp.mkdir(paths.bundle, { recursive: true, mode: 0o700 });
  await atomicWriteJson(path.join(paths.bundle, 'config.json'), out);
  return out;
}
