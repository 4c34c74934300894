// CreateContainer's config, checked before anything is made: each refusal is INVALID_ARGUMENT
// naming the field. The plan merges the image's config as containerd does (command replaces the
// entrypoint, args replace Cmd, envs override the image's by key, working_dir or the image's).
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import type { ImageConfig } from '../oci/image.ts';
import { CriError, invalidField } from './errors.ts';
import type { NamespaceMode } from './sandbox-store.ts';
import type { Msg } from './server.ts';

export type Propagation =
  | 'PROPAGATION_PRIVATE'
  | 'PROPAGATION_HOST_TO_CONTAINER'
  | 'PROPAGATION_BIDIRECTIONAL';

export interface MountPlan {
  readonly containerPath: string;
  readonly hostPath: string;
  readonly readonly: boolean;
  readonly propagation: Propagation;
}

export interface DevicePlan {
  readonly containerPath: string;
  readonly hostPath: string;
  readonly permissions: string;
}

/** CRI LinuxContainerResources, as numbers (0 / '' meaning unset, as in the proto). */
export interface ResourcesPlan {
  readonly cpuPeriod: number;
  readonly cpuQuota: number;
  readonly cpuShares: number;
  readonly memoryLimit: number;
  readonly memorySwapLimit: number;
  readonly oomScoreAdj: number;
  readonly cpusetCpus: string;
  readonly cpusetMems: string;
}

export type SeccompPlan = 'default' | 'unconfined' | { readonly localhost: string };

export interface ContainerPlan {
  readonly name: string;
  readonly attempt: number;
  /** The image as asked (an ID `sha256:…`, a prefix or a name). */
  readonly image: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  /** log_path relative to the sandbox's log_directory; '' when the kubelet gave none. */
  readonly logPath: string;
  readonly mounts: readonly MountPlan[];
  readonly devices: readonly DevicePlan[];
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly stdinOnce: boolean;
  readonly resources: ResourcesPlan;
  readonly privileged: boolean;
  readonly capAdd: readonly string[];
  readonly capDrop: readonly string[];
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly runAsUsername: string;
  readonly supplementalGroups: readonly number[];
  readonly readonlyRootfs: boolean;
  readonly noNewPrivs: boolean;
  /** Empty: the defaults (the kubelet always sends its list). */
  readonly maskedPaths: readonly string[];
  readonly readonlyPaths: readonly string[];
  readonly seccomp: SeccompPlan;
  /** POD (the sandbox's), CONTAINER (its own), NODE, or TARGET (another container's). */
  readonly pidMode: NamespaceMode;
  readonly pidTarget: string;
  /** The request's command, args, envs and working_dir (merged with the image's at create). */
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly envs: readonly string[];
  readonly workingDir: string;
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v == null) return {};
  if (typeof v !== 'object') throw invalidField(field, 'must be a map of strings');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = String(val);
  return out;
}

function absolute(p: unknown, field: string): string {
  const s = String(p ?? '');
  if (!s.startsWith('/')) throw invalidField(field, `"${s}" must be an absolute path`);
  if (s.includes('\0')) throw invalidField(field, 'must not contain NUL');
  return path.posix.normalize(s);
}

function int64(v: unknown): number | undefined {
  if (v == null) return undefined;
  const n = Number((v as { value?: unknown }).value);
  return Number.isInteger(n) ? n : undefined;
}

const num = (v: unknown) => (Number.isFinite(Number(v)) ? Number(v) : 0);

const PROPAGATIONS: readonly Propagation[] = [
  'PROPAGATION_PRIVATE',
  'PROPAGATION_HOST_TO_CONTAINER',
  'PROPAGATION_BIDIRECTIONAL',
];

const CAP = /^(CAP_)?[A-Z_]+$/i;

export function planResources(r: Msg | undefined): ResourcesPlan {
  const res = r ?? {};
  const plan = {
    cpuPeriod: num(res.cpu_period),
    cpuQuota: num(res.cpu_quota),
    cpuShares: num(res.cpu_shares),
    memoryLimit: num(res.memory_limit_in_bytes),
    memorySwapLimit: num(res.memory_swap_limit_in_bytes),
    oomScoreAdj: num(res.oom_score_adj),
    cpusetCpus: String(res.cpuset_cpus ?? ''),
    cpusetMems: String(res.cpuset_mems ?? ''),
  };
  if (plan.oomScoreAdj < -1000 || plan.oomScoreAdj > 1000)
    throw invalidField('linux.resources.oom_score_adj', `${plan.oomScoreAdj} is outside -1000..1000`);
  for (const f of ['cpuPeriod', 'cpuShares', 'memoryLimit'] as const)
    if (plan[f] < 0) throw invalidField(`linux.resources.${f}`, 'must not be negative');
  for (const [f, v] of [
    ['cpuset_cpus', plan.cpusetCpus],
    ['cpuset_mems', plan.cpusetMems],
  ] as const)
    if (v !== '' && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v))
      throw invalidField(`linux.resources.${f}`, `"${v}" is not a CPU/node list such as 0-2,4`);
  return plan;
}

export function planContainer(config: Msg): ContainerPlan {
  if (!config) throw invalidField('config', 'a ContainerConfig is required');
  const md = config.metadata;
  if (!md?.name) throw invalidField('config.metadata.name', 'must not be empty');
  const name = String(md.name);
  if (name.includes('/') || name.includes('\0'))
    throw invalidField('config.metadata.name', `"${name}" must not contain "/"`);
  const image = String(config.image?.image ?? '');
  if (!image) throw invalidField('config.image.image', 'must name an image (its ID or a reference)');
  const logPath = String(config.log_path ?? '');
  if (logPath !== '' && (logPath.startsWith('/') || logPath.split('/').includes('..')))
    throw invalidField(
      'config.log_path',
      `"${logPath}" must be relative to the sandbox's log_directory, without ".."`,
    );
  const mounts: MountPlan[] = (config.mounts ?? []).map((m: Msg, i: number) => {
    const propagation = (m.propagation ?? 'PROPAGATION_PRIVATE') as Propagation;
    if (!PROPAGATIONS.includes(propagation))
      throw invalidField(`config.mounts[${i}].propagation`, `unknown value ${String(m.propagation)}`);
    if (m.image?.image)
      throw new CriError(status.UNIMPLEMENTED, `config.mounts[${i}].image: image volumes are not supported`);
    return {
      containerPath: absolute(m.container_path, `config.mounts[${i}].container_path`),
      hostPath: absolute(m.host_path, `config.mounts[${i}].host_path`),
      readonly: m.readonly === true,
      propagation,
    };
  });
  const devices: DevicePlan[] = (config.devices ?? []).map((d: Msg, i: number) => {
    const permissions = String(d.permissions || 'rwm');
    if (!/^[rwm]{1,3}$/.test(permissions))
      throw invalidField(`config.devices[${i}].permissions`, `"${permissions}" must be letters of rwm`);
    return {
      containerPath: absolute(d.container_path || d.host_path, `config.devices[${i}].container_path`),
      hostPath: absolute(d.host_path, `config.devices[${i}].host_path`),
      permissions,
    };
  });
  const linux = config.linux ?? {};
  const sc = linux.security_context ?? {};
  const caps = sc.capabilities ?? {};
  const capList = (v: unknown, field: string): string[] =>
    ((v as unknown[] | undefined) ?? []).map((c, i) => {
      const s = String(c);
      if (!CAP.test(s)) throw invalidField(`${field}[${i}]`, `"${s}" is not a capability name`);
      return s;
    });
  const ns = sc.namespace_options ?? {};
  const pidMode = (ns.pid ?? 'POD') as NamespaceMode;
  if (!['POD', 'CONTAINER', 'NODE', 'TARGET'].includes(pidMode))
    throw invalidField(
      'config.linux.security_context.namespace_options.pid',
      `unknown mode ${String(ns.pid)}`,
    );
  const pidTarget = String(ns.target_id ?? '');
  if (pidMode === 'TARGET' && !pidTarget)
    throw invalidField(
      'config.linux.security_context.namespace_options.target_id',
      'required with pid TARGET',
    );
  const seccompOf = (): SeccompPlan => {
    const p = sc.seccomp;
    const type = String(p?.profile_type ?? '');
    if (type === 'Unconfined') return 'unconfined';
    if (type === 'Localhost') {
      const ref = String(p.localhost_ref ?? '');
      if (!ref.startsWith('/'))
        throw invalidField(
          'config.linux.security_context.seccomp.localhost_ref',
          `"${ref}" must be the absolute path of a seccomp profile (JSON) on the node`,
        );
      return { localhost: path.posix.normalize(ref) };
    }
    // Unset or RuntimeDefault: Berth's default profile (containerd's unset default is
    // unconfined; the kubelet always sends the type, so this only matters to other clients).
    return 'default';
  };
  const runAsUser = int64(sc.run_as_user);
  const runAsGroup = int64(sc.run_as_group);
  if (runAsGroup !== undefined && runAsUser === undefined && !sc.run_as_username)
    throw invalidField(
      'config.linux.security_context.run_as_group',
      'is only allowed with run_as_user or run_as_username',
    );
  return {
    name,
    attempt: Number(md.attempt ?? 0),
    image,
    labels: stringMap(config.labels, 'config.labels'),
    annotations: stringMap(config.annotations, 'config.annotations'),
    logPath,
    mounts,
    devices,
    tty: config.tty === true,
    stdin: config.stdin === true,
    stdinOnce: config.stdin_once === true,
    resources: planResources(linux.resources),
    privileged: sc.privileged === true,
    capAdd: capList(caps.add_capabilities, 'config.linux.security_context.capabilities.add_capabilities'),
    capDrop: capList(caps.drop_capabilities, 'config.linux.security_context.capabilities.drop_capabilities'),
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup } : {}),
    runAsUsername: String(sc.run_as_username ?? ''),
    supplementalGroups: ((sc.supplemental_groups ?? []) as unknown[]).map(Number).filter(Number.isInteger),
    readonlyRootfs: sc.readonly_rootfs === true,
    noNewPrivs: sc.no_new_privs === true,
    maskedPaths: ((sc.masked_paths ?? []) as unknown[]).map(String),
    readonlyPaths: ((sc.readonly_paths ?? []) as unknown[]).map(String),
    seccomp: seccompOf(),
    pidMode,
    pidTarget,
    command: ((config.command ?? []) as unknown[]).map(String),
    args: ((config.args ?? []) as unknown[]).map(String),
    envs: ((config.envs ?? []) as Msg[]).map((kv, i) => {
      const k = String(kv.key ?? '');
      if (!k || k.includes('=')) throw invalidField(`config.envs[${i}].key`, `"${k}" is not a variable name`);
      return `${k}=${String(kv.value ?? '')}`;
    }),
    workingDir: String(config.working_dir ?? ''),
  };
}

/** The process's argv as containerd builds it from the request and the image config. */
export function processArgs(plan: ContainerPlan, image: ImageConfig['config']): string[] {
  let command = [...plan.command];
  let args = [...plan.args];
  if (command.length === 0) {
    // No command: the image's entrypoint, and its Cmd unless args were given.
    command = [...(image?.Entrypoint ?? [])];
    if (args.length === 0) args = [...(image?.Cmd ?? [])];
  }
  const argv = [...command, ...args];
  if (argv.length === 0)
    throw invalidField('config.command', 'no command given and the image has neither Entrypoint nor Cmd');
  return argv;
}

/** The image's Env with the request's overriding by name. */
export function mergedEnv(plan: ContainerPlan, image: ImageConfig['config'], hostname: string): string[] {
  const out = new Map<string, string>();
  const put = (kv: string) => {
    const eq = kv.indexOf('=');
    out.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  };
  put('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  put(`HOSTNAME=${hostname}`);
  for (const kv of image?.Env ?? []) put(kv);
  for (const kv of plan.envs) put(kv);
  return [...out.values()];
}
