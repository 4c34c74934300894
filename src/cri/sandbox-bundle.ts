// The files of a pod sandbox: the pod's hostname, hosts and resolv.conf (which its containers
// will mount), and the OCI bundle of the infra process, whose rootfs is the static pause
// program and nothing else (so a pod never needs an image pull for it).
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteFile, atomicWriteJson } from '../base/atomic.ts';
import { generateSpec, type OciMount, type OciSpec } from '../runtime/index.ts';
import { resolvConf, type SandboxPlan } from './sandbox-config.ts';

/** The pause image's user (as registry.k8s.io/pause runs): nobody's, no capabilities. */
const PAUSE_UID = 65535;

const POD_HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
`;

export interface SandboxFiles {
  readonly dir: string;
  readonly bundle: string;
  readonly hostname: string;
  readonly hosts: string;
  readonly resolvConf: string;
}

export function sandboxFiles(dir: string): SandboxFiles {
  return {
    dir,
    bundle: path.join(dir, 'bundle'),
    hostname: path.join(dir, 'hostname'),
    hosts: path.join(dir, 'hosts'),
    resolvConf: path.join(dir, 'resolv.conf'),
  };
}

export interface InfraSpecInput {
  readonly plan: SandboxPlan;
  readonly pauseBinary: string;
  readonly cgroupsPath: string;
  /** The pinned netns to join; undefined with the host's network. */
  readonly netns?: string;
  /** The lowest oom_score_adj this berthd may give (its own: no CAP_SYS_RESOURCE here). */
  readonly minOomScoreAdj: number;
  /** The pod's shm tmpfs (sandbox-shm.ts), bound at /dev/shm; undefined with the host's IPC. */
  readonly shm?: string;
}

/** Writes the pod's files and the infra bundle; returns the spec written. */
export async function writeSandboxBundle(files: SandboxFiles, input: InfraSpecInput): Promise<OciSpec> {
  const { plan } = input;
  const rootfs = path.join(files.bundle, 'rootfs');
  await fsp.mkdir(path.join(rootfs, 'etc'), { recursive: true, mode: 0o755 });
  for (const d of ['proc', 'sys', 'dev']) await fsp.mkdir(path.join(rootfs, d), { recursive: true });
  await fsp.copyFile(input.pauseBinary, path.join(rootfs, 'pause'));
  await fsp.chmod(path.join(rootfs, 'pause'), 0o755);
  const hostNet = plan.namespaces.network === 'NODE';
  const resolv = plan.dns
    ? resolvConf(plan.dns)
    : await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const hosts = hostNet ? await fsp.readFile('/etc/hosts', 'utf8').catch(() => POD_HOSTS) : POD_HOSTS;
  await Promise.all([
    atomicWriteFile(files.hostname, `${plan.hostname}\n`),
    atomicWriteFile(files.hosts, hosts),
    atomicWriteFile(files.resolvConf, resolv),
  ]);
  const mounts: OciMount[] = [];
  for (const [name, src] of [
    ['hostname', files.hostname],
    ['hosts', files.hosts],
    ['resolv.conf', files.resolvConf],
  ] as const) {
    await fsp.writeFile(path.join(rootfs, 'etc', name), '');
    mounts.push({ destination: `/etc/${name}`, type: 'bind', source: src, options: ['rbind', 'ro'] });
  }
  const spec = generateSpec({
    rootfs,
    readonlyRootfs: true,
    args: ['/pause'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: '/',
    user: { uid: plan.runAsUser ?? PAUSE_UID, gid: plan.runAsGroup ?? plan.runAsUser ?? PAUSE_UID },
    terminal: false,
    hostname: plan.hostname,
    cgroupsPath: input.cgroupsPath,
    mounts,
    capDrop: ['ALL'],
    noNewPrivileges: true,
    namespaces: {
      network: input.netns ?? 'host',
      ...(hostNet ? { uts: 'host' as const } : {}),
      ...(plan.namespaces.ipc === 'NODE' ? { ipc: 'host' as const } : {}),
      ...(plan.namespaces.pid === 'NODE' ? { pid: 'host' as const } : {}),
    },
    seccomp: plan.seccomp,
    sysctl: plan.sysctls,
    annotations: {
      'io.kubernetes.cri.container-type': 'sandbox',
      'io.kubernetes.cri.sandbox-name': plan.metadata.name,
      'io.kubernetes.cri.sandbox-namespace': plan.metadata.namespace,
      'io.kubernetes.cri.sandbox-uid': plan.metadata.uid,
    },
  });
  // containerd gives the infra process -998; a berthd without CAP_SYS_RESOURCE may not go below
  // its own value (runc create fails), so it is clamped as restrict_oom_score_adj does.
  const shm = input.shm;
  const withOom: OciSpec = {
    ...spec,
    ...(shm
      ? {
          mounts: spec.mounts.map((m) =>
            m.destination === '/dev/shm'
              ? { destination: '/dev/shm', type: 'bind', source: shm, options: ['rbind', 'rw'] }
              : m,
          ),
        }
      : {}),
    process: { ...spec.process, oomScoreAdj: Math.max(-998, input.minOomScoreAdj) },
  };
  await atomicWriteJson(path.join(files.bundle, 'config.json'), withOom);
  return withOom;
}

/** This process's oom_score_adj (the floor for what it may give its children). */
export async function ownOomScoreAdj(): Promise<number> {
  const text = await fsp.readFile('/proc/self/oom_score_adj', 'utf8').catch(() => '0');
  const n = Number(text.trim());
  return Number.isInteger(n) ? n : 0;
}
