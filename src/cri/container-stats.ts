// ContainerStats / ListContainerStats / PodSandboxStats / ListPodSandboxStats from the cgroups
// (runtime/stats.ts reads them as for `docker stats`) and the writable layer (`du` of the
// overlay upper dir), and UpdateContainerResources (`runc update`). CPU rate (usage_nano_cores)
// is the change since the previous sample of the same cgroup, as containerd computes it.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { atomicWriteJson } from '../base/atomic.ts';
import { CgroupPaths, cgroupVersion, parseNetDev, readCgroupSample } from '../runtime/index.ts';
import { ociResources } from './container-bundle.ts';
import { planResources } from './container-config.ts';
import type { CriContainerRecord } from './container-store.ts';
import { type CriContainers, nowNs } from './containers.ts';
import { diskUsage } from './disk-usage.ts';
import { CriError } from './errors.ts';
import type { SandboxRecord } from './sandbox-store.ts';
import type { Handlers, Msg } from './server.ts';

const u64 = (n: number | undefined) => (n === undefined ? null : { value: Math.max(0, Math.round(n)) });

/** The last CPU sample per cgroup path: [time ns, usage ns]. */
const lastCpu = new Map<string, [bigint, number]>();

async function cgroupUsage(cgroupsPath: string): Promise<{ cpu: Msg; memory: Msg; pids?: number }> {
  const sample = await readCgroupSample(new CgroupPaths(cgroupVersion(), cgroupsPath));
  const at = BigInt(sample.at.getTime()) * 1_000_000n;
  const usage = sample.cpu.cpu_usage.total_usage;
  const prev = lastCpu.get(cgroupsPath);
  // Removed containers' samples are not tracked one by one: the map is simply bounded.
  if (lastCpu.size > 4096) lastCpu.clear();
  lastCpu.set(cgroupsPath, [at, usage]);
  const nanoCores =
    prev && at > prev[0] && usage >= prev[1] ? ((usage - prev[1]) * 1e9) / Number(at - prev[0]) : undefined;
  const m = sample.memory;
  const st = m.stats ?? {};
  // The working set is what cannot be reclaimed: usage less the inactive file cache (kubelet's).
  const inactive = st.total_inactive_file ?? st.inactive_file ?? 0;
  const working = m.usage === undefined ? undefined : Math.max(0, m.usage - inactive);
  const ts = at.toString();
  return {
    cpu: { timestamp: ts, usage_core_nano_seconds: u64(usage), usage_nano_cores: u64(nanoCores ?? 0) },
    memory: {
      timestamp: ts,
      working_set_bytes: u64(working),
      available_bytes: u64(m.limit !== undefined && working !== undefined ? m.limit - working : undefined),
      usage_bytes: u64(m.usage),
      rss_bytes: u64(st.total_rss ?? st.anon),
      page_faults: u64(st.total_pgfault ?? st.pgfault),
      major_page_faults: u64(st.total_pgmajfault ?? st.pgmajfault),
    },
    ...(sample.pids.current !== undefined ? { pids: sample.pids.current } : {}),
  };
}

export async function containerStats(c: CriContainers, rec: CriContainerRecord): Promise<Msg> {
  const upper = c.paths(rec.id).upper;
  const du = await diskUsage([upper]);
  const out: Msg = {
    attributes: { id: rec.id, metadata: rec.metadata, labels: rec.labels, annotations: rec.annotations },
    writable_layer: {
      timestamp: nowNs(),
      fs_id: { mountpoint: c.d.store.root },
      used_bytes: u64(du.bytes),
      inodes_used: u64(du.inodes),
    },
  };
  if (rec.state.status !== 'running') return out;
  const u = await cgroupUsage(rec.cgroupsPath);
  return { ...out, cpu: u.cpu, memory: u.memory };
}

/** A pod's usage: its cgroup parent's when the kubelet gave the pod one, else the infra's. */
async function sandboxStats(c: CriContainers, sb: SandboxRecord): Promise<Msg> {
  const ctrs = c.d.store.all().filter((r) => r.sandboxId === sb.id);
  const out: Msg = {
    attributes: { id: sb.id, metadata: sb.metadata, labels: sb.labels, annotations: sb.annotations },
    linux: { containers: await Promise.all(ctrs.map((r) => containerStats(c, r))) },
  };
  if (sb.state.status !== 'ready') return out;
  const own = Boolean((sb.config as Msg)?.linux?.cgroup_parent);
  const u = await cgroupUsage(own ? path.posix.dirname(sb.cgroupsPath) : sb.cgroupsPath);
  const ts = nowNs();
  const dev = parseNetDev(await fsp.readFile(`/proc/${sb.state.pid}/net/dev`, 'utf8').catch(() => ''));
  const interfaces = Object.entries(dev).map(([name, n]) => ({
    name,
    rx_bytes: u64(n.rx_bytes),
    rx_errors: u64(n.rx_errors),
    tx_bytes: u64(n.tx_bytes),
    tx_errors: u64(n.tx_errors),
  }));
  return {
    ...out,
    linux: {
      ...out.linux,
      cpu: u.cpu,
      memory: u.memory,
      network: {
        timestamp: ts,
        default_interface: interfaces.find((i) => i.name === 'eth0') ?? null,
        interfaces,
      },
      process: { timestamp: ts, process_count: u64(u.pids) },
    },
  };
}

/** Live limits for a running container, kept in its bundle and record for later status. */
export async function updateResources(c: CriContainers, ref: string, linux: Msg): Promise<void> {
  if (!linux)
    throw new CriError(status.INVALID_ARGUMENT, 'linux: the new LinuxContainerResources are required');
  const rec = await c.get(ref);
  const plan = planResources(linux);
  if (rec.state.status === 'running') await c.d.runtime.update(rec.id, ociResources(plan));
  const file = path.join(c.paths(rec.id).bundle, 'config.json');
  const spec = JSON.parse(await fsp.readFile(file, 'utf8')) as {
    linux: { resources: Record<string, unknown> };
  };
  spec.linux.resources = { ...spec.linux.resources, ...ociResources(plan) };
  await atomicWriteJson(file, spec);
  await c.d.store.put({ ...rec, resources: plan });
}

export interface StatsSandboxes {
  /** Every sandbox record (filtered here). */
  all(): SandboxRecord[];
  find(ref: string): SandboxRecord | undefined;
}

const labelsMatch = (labels: Readonly<Record<string, string>>, selector: Msg) =>
  Object.entries((selector ?? {}) as Record<string, string>).every(([k, v]) => labels[k] === v);

export function statsHandlers(c: CriContainers, sandboxes: StatsSandboxes): Handlers {
  return {
    ContainerStats: async (req) => ({
      stats: await containerStats(c, await c.get(String(req.container_id ?? ''))),
    }),
    ListContainerStats: async (req) => {
      const f = req.filter ?? {};
      const out: Msg[] = [];
      for (const item of await c.list({ state: { state: 'CONTAINER_RUNNING' } })) {
        if (f.id && !String(item.id).startsWith(f.id)) continue;
        if (f.pod_sandbox_id && !String(item.pod_sandbox_id).startsWith(f.pod_sandbox_id)) continue;
        if (!labelsMatch(item.labels, f.label_selector)) continue;
        const rec = c.d.store.get(item.id);
        if (rec) out.push(await containerStats(c, rec));
      }
      return { stats: out };
    },
    PodSandboxStats: async (req) => {
      const ref = String(req.pod_sandbox_id ?? '');
      const sb = ref ? sandboxes.find(ref) : undefined;
      if (!sb) throw new CriError(status.NOT_FOUND, `pod sandbox ${ref} not found`);
      return { stats: await sandboxStats(c, sb) };
    },
    ListPodSandboxStats: async (req) => {
      const f = req.filter ?? {};
      const picked = sandboxes
        .all()
        .filter((s) => s.state.status === 'ready')
        .filter((s) => !f.id || s.id.startsWith(f.id))
        .filter((s) => labelsMatch(s.labels, f.label_selector));
      return { stats: await Promise.all(picked.map((s) => sandboxStats(c, s))) };
    },
    UpdateContainerResources: async (req) => {
      await updateResources(c, String(req.container_id ?? ''), req.linux);
      return {};
    },
  };
}
