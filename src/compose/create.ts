// A normalised service → the Engine API's container create body (Config + HostConfig +
// NetworkingConfig), Compose v2's labels, and the config hash that convergence compares.
import { existsSync, mkdirSync } from 'node:fs';
import { BERTH_VERSION } from '../base/version.ts';
import { LABEL } from './engine.ts';
import { serviceConfigHash } from './hash.ts';
import { ComposeError } from './errors.ts';
import type { Project } from './project.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The version compose writes in `com.docker.compose.version` (Berth's, so users can tell who made it). */
export const COMPOSE_VERSION = BERTH_VERSION;

export type Service = Obj;

export function services(p: Project): Record<string, Service> {
  return (p.model.services ?? {}) as Record<string, Service>;
}

/** The image a service runs: its `image`, else `project-service` (what a build is tagged). */
export function imageName(p: Project, name: string, svc: Service): string {
  return typeof svc.image === 'string' ? svc.image : `${p.name}-${name}`;
}

export function containerName(p: Project, name: string, svc: Service, n: number): string {
  return typeof svc.container_name === 'string' ? svc.container_name : `${p.name}-${name}-${n}`;
}

/** Replicas `up` runs: --scale, else `scale`, else deploy.replicas, else 1. */
export function replicas(svc: Service, scale?: number): number {
  if (scale !== undefined) return scale;
  if (typeof svc.scale === 'number') return svc.scale;
  const r = (svc.deploy as Obj | undefined)?.replicas;
  return typeof r === 'number' ? r : 1;
}

/**
 * The config hash: what the service's container depends on, computed as Compose v2 does it
 * (src/compose/hash.ts), so either tool sees the other's containers as up to date.
 */
export function configHash(svc: Service): string {
  return serviceConfigHash(svc);
}

/** Go-style durations (`1m30s`, `500ms`, `2h`) → nanoseconds. */
export function durationNs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v * 1e9;
  const s = String(v).trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed !== s.length) throw new Error(`invalid duration "${s}": write e.g. 10s, 1m30s or 500ms`);
  return Math.round(total);
}

/** `512m`, `1g`, `1024` → bytes. */
export function bytes(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(String(v).trim());
  if (!m) throw new Error(`invalid size "${String(v)}": write e.g. 512m or 1g`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  return Math.round(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}

export interface CreateInput {
  readonly project: Project;
  readonly name: string;
  readonly svc: Service;
  readonly number: number;
  readonly imageId: string;
  readonly oneoff?: boolean;
  /** The network names (engine names) → endpoint settings, in attach order. */
  readonly networks: [string, Obj][];
  /** Container ids of the services named by `service:X` in network_mode/pid/ipc. */
  readonly serviceContainers?: ReadonlyMap<string, string>;
}

/** `service:X` → `container:<X's container>` (as v2), anything else as written. */
function namespaceMode(in_: CreateInput, v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  if (!v.startsWith('service:')) return v;
  const dep = v.slice('service:'.length);
  const id = in_.serviceContainers?.get(dep);
  if (!id)
    throw new ComposeError(
      `service "${in_.name}" uses ${v} but service "${dep}" has no container: start it first`,
    );
  return `container:${id}`;
}

/** The services a service's network_mode/pid/ipc join (`service:X`). */
export function namespaceServices(svc: Service): string[] {
  return [svc.network_mode, svc.pid, svc.ipc]
    .filter((v): v is string => typeof v === 'string' && v.startsWith('service:'))
    .map((v) => v.slice('service:'.length));
}

export function dependsOnLabel(svc: Service): string {
  const d = isObj(svc.depends_on) ? svc.depends_on : {};
  return Object.entries(d)
    .map(
      ([n, v]) =>
        `${n}:${String((v as Obj).condition ?? 'service_started')}:${String((v as Obj).restart ?? false)}`,
    )
    .join(',');
}

export function composeLabels(in_: CreateInput): Record<string, string> {
  const { project: p, name, svc, number } = in_;
  return {
    ...((svc.labels as Record<string, string> | undefined) ?? {}),
    [LABEL.project]: p.name,
    [LABEL.service]: name,
    [LABEL.number]: String(number),
    [LABEL.oneoff]: in_.oneoff ? 'True' : 'False',
    [LABEL.hash]: configHash(svc),
    [LABEL.workingDir]: p.workingDir,
    [LABEL.configFiles]: p.configFiles.join(','),
    [LABEL.version]: COMPOSE_VERSION,
    [LABEL.dependsOn]: dependsOnLabel(svc),
    [LABEL.image]: in_.imageId,
  };
}

/** The create body for one replica. Bind sources that do not exist are created (create_host_path), as v2 does. */
export function createBody(in_: CreateInput): Obj {
  const { svc } = in_;
  const env = isObj(svc.environment)
    ? Object.entries(svc.environment)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => `${k}=${String(v)}`)
    : [];
  const exposed: Obj = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of (svc.ports as Obj[] | undefined) ?? []) {
    const key = `${String(p.target)}/${String(p.protocol ?? 'tcp')}`;
    exposed[key] = {};
    const list = bindings[key] ?? [];
    list.push({ HostIp: String(p.host_ip ?? ''), HostPort: String(p.published ?? '') });
    bindings[key] = list;
  }
  for (const e of (svc.expose as string[] | undefined) ?? []) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  const mounts = ((svc.volumes as Obj[] | undefined) ?? []).map((v) => mountOf(in_, v));
  mounts.push(...fileMounts(in_, 'secrets'), ...fileMounts(in_, 'configs'));
  const hc = svc.healthcheck as Obj | undefined;
  const limits = ((svc.deploy as Obj | undefined)?.resources as Obj | undefined)?.limits as Obj | undefined;
  const restart = typeof svc.restart === 'string' ? svc.restart : 'no';
  const [rname, rmax] = restart.split(':');
  const [primary, ...rest] = in_.networks;
  void rest;
  const ulimits = isObj(svc.ulimits)
    ? Object.entries(svc.ulimits).map(([n, v]) =>
        typeof v === 'number'
          ? { Name: n, Soft: v, Hard: v }
          : { Name: n, Soft: (v as Obj).soft, Hard: (v as Obj).hard },
      )
    : undefined;
  const logging = svc.logging as Obj | undefined;
  const hostConfig: Obj = {
    PortBindings: bindings,
    Mounts: mounts,
    RestartPolicy: { Name: rname, ...(rmax ? { MaximumRetryCount: Number(rmax) } : {}) },
    NetworkMode: namespaceMode(in_, svc.network_mode) ?? primary?.[0] ?? 'default',
    ...(svc.init !== undefined ? { Init: svc.init } : {}),
    ...(svc.privileged ? { Privileged: true } : {}),
    ...(svc.read_only ? { ReadonlyRootfs: true } : {}),
    ...(svc.cap_add ? { CapAdd: svc.cap_add } : {}),
    ...(svc.cap_drop ? { CapDrop: svc.cap_drop } : {}),
    ...(svc.security_opt ? { SecurityOpt: svc.security_opt } : {}),
    ...(svc.sysctls ? { Sysctls: svc.sysctls } : {}),
    ...(ulimits ? { Ulimits: ulimits } : {}),
    ...(svc.extra_hosts ? { ExtraHosts: (svc.extra_hosts as string[]).map((h) => h.replace('=', ':')) } : {}),
    ...(svc.dns ? { Dns: svc.dns } : {}),
    ...(svc.dns_search ? { DnsSearch: svc.dns_search } : {}),
    ...(svc.dns_opt ? { DnsOptions: svc.dns_opt } : {}),
    ...(svc.pid ? { PidMode: namespaceMode(in_, svc.pid) } : {}),
    ...(svc.ipc ? { IpcMode: namespaceMode(in_, svc.ipc) } : {}),
    ...(svc.group_add ? { GroupAdd: (svc.group_add as unknown[]).map(String) } : {}),
    ...(svc.tmpfs
      ? {
          Tmpfs: Object.fromEntries(
            (svc.tmpfs as string[]).map((t) => [t.split(':')[0], t.split(':')[1] ?? '']),
          ),
        }
      : {}),
    ...(svc.shm_size !== undefined ? { ShmSize: bytes(svc.shm_size) } : {}),
    ...(svc.oom_score_adj !== undefined ? { OomScoreAdj: svc.oom_score_adj } : {}),
    ...(svc.mem_limit !== undefined || limits?.memory !== undefined
      ? { Memory: bytes(limits?.memory ?? svc.mem_limit) }
      : {}),
    ...(svc.cpus !== undefined || limits?.cpus !== undefined
      ? { NanoCpus: Math.round(Number(limits?.cpus ?? svc.cpus) * 1e9) }
      : {}),
    ...(svc.pids_limit !== undefined || limits?.pids !== undefined
      ? { PidsLimit: limits?.pids ?? svc.pids_limit }
      : {}),
    ...(logging ? { LogConfig: { Type: logging.driver ?? 'json-file', Config: logging.options ?? {} } } : {}),
  };
  const config: Obj = {
    Image: in_.imageId,
    Labels: composeLabels(in_),
    Env: env,
    ExposedPorts: exposed,
    ...(Array.isArray(svc.command) ? { Cmd: svc.command } : {}),
    ...(Array.isArray(svc.entrypoint) ? { Entrypoint: svc.entrypoint } : {}),
    ...(svc.tty ? { Tty: true } : {}),
    ...(svc.stdin_open ? { OpenStdin: true } : {}),
    ...(svc.user !== undefined ? { User: String(svc.user) } : {}),
    ...(svc.working_dir ? { WorkingDir: svc.working_dir } : {}),
    ...(svc.hostname ? { Hostname: svc.hostname } : {}),
    ...(svc.domainname ? { Domainname: svc.domainname } : {}),
    ...(svc.stop_signal ? { StopSignal: svc.stop_signal } : {}),
    ...(svc.stop_grace_period !== undefined
      ? { StopTimeout: Math.round((durationNs(svc.stop_grace_period) ?? 0) / 1e9) }
      : {}),
    ...(hc ? { Healthcheck: healthcheck(hc) } : {}),
  };
  return {
    ...config,
    HostConfig: hostConfig,
    ...(primary ? { NetworkingConfig: { EndpointsConfig: { [primary[0]]: primary[1] } } } : {}),
  };
}

function healthcheck(hc: Obj): Obj {
  if (hc.disable) return { Test: ['NONE'] };
  return {
    ...(hc.test ? { Test: hc.test } : {}),
    ...(hc.interval !== undefined ? { Interval: durationNs(hc.interval) } : {}),
    ...(hc.timeout !== undefined ? { Timeout: durationNs(hc.timeout) } : {}),
    ...(hc.start_period !== undefined ? { StartPeriod: durationNs(hc.start_period) } : {}),
    ...(hc.start_interval !== undefined ? { StartInterval: durationNs(hc.start_interval) } : {}),
    ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
  };
}

function mountOf(in_: CreateInput, v: Obj): Obj {
  const type = String(v.type);
  const m: Obj = { Type: type, Target: v.target, ...(v.read_only ? { ReadOnly: true } : {}) };
  if (type === 'volume') {
    if (typeof v.source === 'string') {
      const top = (in_.project.model.volumes as Record<string, Obj> | undefined)?.[v.source];
      m.Source = String(top?.name ?? v.source);
    }
    if ((v.volume as Obj | undefined)?.nocopy) m.VolumeOptions = { NoCopy: true };
  } else if (type === 'bind') {
    m.Source = v.source;
    const b = (v.bind ?? {}) as Obj;
    if (b.create_host_path !== false && typeof v.source === 'string' && !existsSync(v.source))
      mkdirSync(v.source, { recursive: true });
    if (b.propagation) m.BindOptions = { Propagation: b.propagation };
  } else if (type === 'tmpfs') {
    const t = (v.tmpfs ?? {}) as Obj;
    if (t.size !== undefined) m.TmpfsOptions = { SizeBytes: bytes(t.size) };
  }
  return m;
}

/**
 * File-backed secrets and configs, bind-mounted read-only at their targets (as Compose does
 * without swarm). Those from `environment:` or `content:` are written into the container after
 * create (see `injectedFiles`).
 */
/** Where a secret or config entry lands: its target (a relative secret target below /run/secrets), else /NAME. */
export function fileTarget(kind: 'secrets' | 'configs', e: Obj): string {
  if (e.target === undefined || e.target === null)
    return kind === 'secrets' ? `/run/secrets/${String(e.source)}` : `/${String(e.source)}`;
  const t = String(e.target);
  return kind === 'secrets' && !t.startsWith('/') ? `/run/secrets/${t}` : t;
}

function fileMounts(in_: CreateInput, kind: 'secrets' | 'configs'): Obj[] {
  const top = (in_.project.model[kind] ?? {}) as Record<string, Obj>;
  return ((in_.svc[kind] as Obj[] | undefined) ?? [])
    .filter((e) => typeof top[String(e.source)]?.file === 'string')
    .map((e) => ({
      Type: 'bind',
      Source: top[String(e.source)]!.file,
      Target: fileTarget(kind, e),
      ReadOnly: true,
    }));
}

/** A secret or config that has no file on the host: its bytes go into the container by a copy. */
export interface InjectedFile {
  /** Absolute path in the container (`/run/secrets/NAME` unless the entry's target says otherwise). */
  readonly target: string;
  readonly content: Buffer;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The `environment:` and `content:` secrets and configs of a service, resolved (v2's
 * injectFileReferences): mode 0444 unless the entry sets one; an unset variable or a read-only
 * service is an error naming the secret, the service and the fix, found before anything is created.
 */
export function injectedFiles(p: Project, name: string, svc: Service): InjectedFile[] {
  const out: InjectedFile[] = [];
  for (const kind of ['secrets', 'configs'] as const) {
    const top = (p.model[kind] ?? {}) as Record<string, Obj>;
    const what = kind.slice(0, -1);
    for (const e of (svc[kind] as Obj[] | undefined) ?? []) {
      const src = top[String(e.source)] ?? {};
      let content: string | undefined;
      if (typeof src.content === 'string') content = src.content;
      else if (typeof src.environment === 'string') {
        content = p.variable(src.environment);
        if (content === undefined)
          throw new ComposeError(
            `environment variable "${src.environment}" required by ${what} "${String(e.source)}" of service "${name}" is not set: set it in the shell or in .env`,
          );
      }
      if (content === undefined || content === '') continue;
      if (svc.read_only === true)
        throw new ComposeError(
          `cannot create ${what} "${String(e.source)}" in read-only service "${name}": use "file:" for it, or drop read_only`,
        );
      const id = (v: unknown, field: string) => {
        if (v === undefined || v === null || v === '') return 0;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0)
          throw new ComposeError(
            `${what} "${String(e.source)}" of service "${name}": ${field} must be a numeric id, not "${String(v)}"`,
          );
        return n;
      };
      const mode =
        e.mode === undefined
          ? 0o444
          : typeof e.mode === 'string'
            ? Number.parseInt(e.mode, 8)
            : Number(e.mode);
      out.push({
        target: fileTarget(kind, e),
        content: Buffer.from(content),
        mode,
        uid: id(e.uid, 'uid'),
        gid: id(e.gid, 'gid'),
      });
    }
  }
  return out;
}
