// RunPodSandbox's config, checked before anything is made: each refusal is INVALID_ARGUMENT
// naming the field and what to send instead. The result is a plain plan the run follows.
import net from 'node:net';
import os from 'node:os';
import { status } from '@grpc/grpc-js';
import { CriError, invalidField } from './errors.ts';
import type { NamespaceMode, PodMetadata } from './sandbox-store.ts';
import type { Msg } from './server.ts';

export interface DnsPlan {
  readonly servers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

export interface SandboxPlan {
  readonly metadata: PodMetadata;
  readonly hostname: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly namespaces: {
    readonly network: NamespaceMode;
    readonly pid: NamespaceMode;
    readonly ipc: NamespaceMode;
  };
  /** undefined: the host's resolv.conf is copied, as containerd does without a DNS config. */
  readonly dns?: DnsPlan;
  /** The kubelet's cgroup_parent; empty: berthd's --cgroup-parent. */
  readonly cgroupParent: string;
  readonly sysctls: Record<string, string>;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly seccomp: 'default' | 'unconfined';
}

const MODES: readonly NamespaceMode[] = ['POD', 'CONTAINER', 'NODE', 'TARGET'];

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v == null) return {};
  if (typeof v !== 'object') throw invalidField(field, 'must be a map of strings');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = String(val);
  return out;
}

function mode(v: unknown, field: string, allowed: readonly NamespaceMode[]): NamespaceMode {
  const m = (v ?? 'POD') as NamespaceMode;
  if (!MODES.includes(m)) throw invalidField(field, `unknown namespace mode ${String(v)}`);
  if (!allowed.includes(m))
    throw invalidField(field, `${m} is not valid for a pod sandbox: use ${allowed.join(' or ')}`);
  return m;
}

function int64(v: unknown): number | undefined {
  if (v == null) return undefined;
  const n = Number((v as { value?: unknown }).value);
  return Number.isInteger(n) ? n : undefined;
}

/** A DNS label sequence the kernel's UTS namespace can hold (64 bytes, RFC 1123). */
const HOSTNAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i;

export function planSandbox(config: Msg): SandboxPlan {
  if (!config) throw invalidField('config', 'a PodSandboxConfig is required');
  const md = config.metadata;
  if (!md) throw invalidField('config.metadata', 'required (name, uid, namespace, attempt)');
  for (const f of ['name', 'uid', 'namespace'] as const)
    if (!md[f]) throw invalidField(`config.metadata.${f}`, 'must not be empty');
  const linux = config.linux ?? {};
  const sc = linux.security_context ?? {};
  const ns = sc.namespace_options ?? {};
  if (ns.userns_options?.mode && ns.userns_options.mode !== 'NODE')
    throw new CriError(
      status.UNIMPLEMENTED,
      'config.linux.security_context.namespace_options.userns_options: user namespaces are not supported by berthd; use mode NODE',
    );
  const namespaces = {
    network: mode(ns.network, 'config.linux.security_context.namespace_options.network', ['POD', 'NODE']),
    pid: mode(ns.pid, 'config.linux.security_context.namespace_options.pid', ['POD', 'CONTAINER', 'NODE']),
    ipc: mode(ns.ipc, 'config.linux.security_context.namespace_options.ipc', ['POD', 'NODE']),
  };
  // The host's network means the host's UTS namespace too, so its hostname (as containerd).
  const hostname = namespaces.network === 'NODE' ? os.hostname() : String(config.hostname || os.hostname());
  if (hostname.length > 64 || !HOSTNAME.test(hostname))
    throw invalidField(
      'config.hostname',
      `"${hostname}" is not a valid hostname (RFC 1123, at most 64 bytes)`,
    );
  let dns: DnsPlan | undefined;
  if (config.dns_config) {
    const d = config.dns_config;
    const servers = (d.servers ?? []).map(String);
    servers.forEach((s: string, i: number) => {
      if (net.isIP(s) === 0)
        throw invalidField(`config.dns_config.servers[${i}]`, `"${s}" is not an IP address`);
    });
    const searches = (d.searches ?? []).map(String);
    searches.forEach((s: string, i: number) => {
      if (!HOSTNAME.test(s)) throw invalidField(`config.dns_config.searches[${i}]`, `"${s}" is not a domain`);
    });
    const options = (d.options ?? []).map(String);
    options.forEach((s: string, i: number) => {
      if (/\s/.test(s) || s === '')
        throw invalidField(`config.dns_config.options[${i}]`, `"${s}" is not an option`);
    });
    if (servers.length + searches.length + options.length > 0) dns = { servers, searches, options };
  }
  const cgroupParent = String(linux.cgroup_parent ?? '');
  if (cgroupParent !== '' && (!cgroupParent.startsWith('/') || cgroupParent.split('/').includes('..')))
    throw invalidField(
      'config.linux.cgroup_parent',
      `"${cgroupParent}" must be an absolute cgroup path without ".."`,
    );
  const seccompType = String(sc.seccomp?.profile_type ?? 'RuntimeDefault');
  if (seccompType === 'Localhost')
    throw new CriError(
      status.UNIMPLEMENTED,
      'config.linux.security_context.seccomp: Localhost profiles are not supported for the infra process; use RuntimeDefault or Unconfined',
    );
  const runAsUser = int64(sc.run_as_user);
  const runAsGroup = int64(sc.run_as_group);
  return {
    metadata: {
      name: String(md.name),
      uid: String(md.uid),
      namespace: String(md.namespace),
      attempt: Number(md.attempt ?? 0),
    },
    hostname,
    labels: stringMap(config.labels, 'config.labels'),
    annotations: stringMap(config.annotations, 'config.annotations'),
    namespaces,
    ...(dns ? { dns } : {}),
    cgroupParent,
    sysctls: stringMap(linux.sysctls, 'config.linux.sysctls'),
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup } : {}),
    seccomp: seccompType === 'Unconfined' ? 'unconfined' : 'default',
  };
}

/** resolv.conf text for a DNS config (the kubelet's servers, searches, options). */
export function resolvConf(dns: DnsPlan): string {
  return [
    ...(dns.searches.length ? [`search ${dns.searches.join(' ')}`] : []),
    ...dns.servers.map((s) => `nameserver ${s}`),
    ...(dns.options.length ? [`options ${dns.options.join(' ')}`] : []),
    '',
  ].join('\n');
}
