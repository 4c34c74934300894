// Reads one container's cgroup counters straight from the cgroup filesystem (no runc process per
// sample): cpuacct, memory, blkio and pids on v1; cpu.stat, memory.*, io.stat, pids.* on v2.
// The sample is typed after Docker's stats JSON because that is the only consumer's vocabulary.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { CgroupPaths } from './cgroups.ts';

export interface CpuStats {
  cpu_usage: {
    total_usage: number;
    percpu_usage?: number[];
    usage_in_kernelmode: number;
    usage_in_usermode: number;
  };
  system_cpu_usage: number;
  online_cpus: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface CgroupSample {
  readonly at: Date;
  readonly cpu: CpuStats;
  readonly memory: {
    usage?: number;
    max_usage?: number;
    failcnt?: number;
    limit?: number;
    stats?: Record<string, number>;
  };
  readonly pids: { current?: number; limit?: number };
  readonly blkio: {
    io_service_bytes_recursive: BlkioEntry[] | null;
    io_serviced_recursive: BlkioEntry[] | null;
  };
  /** Per-interface counters of the container's network namespace (lo left out, as Docker). */
  readonly networks?: Record<string, NetworkStats>;
}

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/**
 * /proc/<pid>/net/dev: `name: rx bytes packets errs drop fifo frame compressed multicast`, then
 * tx `bytes packets errs drop ...`. Loopback is not one of the container's networks.
 */
export function parseNetDev(s: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of s.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (!name || name === 'lo' || f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out[name] = {
      rx_bytes: f[0]!,
      rx_packets: f[1]!,
      rx_errors: f[2]!,
      rx_dropped: f[3]!,
      tx_bytes: f[8]!,
      tx_packets: f[9]!,
      tx_errors: f[10]!,
      tx_dropped: f[11]!,
    };
  }
  return out;
}

/** The container's interfaces, seen through the first process of its cgroup. */
async function readNetworks(procsFile: string): Promise<{ networks?: Record<string, NetworkStats> }> {
  const pid = (await text(procsFile)).split('\n')[0]?.trim();
  if (!pid || !/^\d+$/.test(pid)) return {};
  const nets = parseNetDev(await text(`/proc/${pid}/net/dev`));
  return Object.keys(nets).length > 0 ? { networks: nets } : {};
}

const NS_PER_TICK = 1e9 / 100; // USER_HZ is 100 on Linux

async function text(p: string): Promise<string> {
  return readFile(p, 'utf8').catch(() => '');
}

function kv(s: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of s.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

function int(s: string): number | undefined {
  const t = s.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/** Host CPU time in nanoseconds from /proc/stat's `cpu` line, and the online CPU count. */
export function parseProcStat(s: string): { systemNs: number; cpus: number } {
  const lines = s.split('\n');
  const first = lines.find((l) => l.startsWith('cpu '));
  // user nice system idle iowait irq softirq steal (guest is already inside user).
  const fields = (first ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const ticks = fields.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const cpus = lines.filter((l) => /^cpu\d+ /.test(l)).length;
  return { systemNs: ticks * NS_PER_TICK, cpus };
}

/** v1 blkio lines `8:0 Read 4096` (the `Total` lines are left out, as Docker does). */
export function parseBlkio(s: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of s.split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

/** v2 io.stat `8:0 rbytes=1 wbytes=2 rios=3 wios=4 …` → Docker's v1-shaped entries. */
export function parseIoStat(s: string): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of s.split('\n')) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const f = Object.fromEntries(pairs.map((p) => p.split('=')).map(([k, v]) => [k, Number(v)]));
    const e = (op: string, value: number | undefined) => ({
      major: Number(m[1]),
      minor: Number(m[2]),
      op,
      value: value ?? 0,
    });
    bytes.push(e('read', f.rbytes), e('write', f.wbytes));
    ios.push(e('read', f.rios), e('write', f.wios));
  }
  return { bytes, ios };
}

export async function readCgroupSample(cg: CgroupPaths, hostMemory = os.totalmem()): Promise<CgroupSample> {
  const procStat = parseProcStat(await text('/proc/stat'));
  const [sample, nets] = await Promise.all([
    cg.version === 2 ? readV2(cg, hostMemory, procStat) : readV1(cg, hostMemory, procStat),
    readNetworks(cg.version === 2 ? cg.file('', 'cgroup.procs') : cg.file('pids', 'cgroup.procs')),
  ]);
  return { ...sample, ...nets };
}

async function readV1(
  cg: CgroupPaths,
  hostMemory: number,
  host: { systemNs: number; cpus: number },
): Promise<CgroupSample> {
  const f = (c: string, n: string) => text(cg.file(c, n));
  const [usage, percpu, cpuStat, throttle, mUsage, mMax, mFail, mLimit, mStat, pCur, pMax, bBytes, bIos] =
    await Promise.all([
      f('cpuacct', 'cpuacct.usage'),
      f('cpuacct', 'cpuacct.usage_percpu'),
      f('cpuacct', 'cpuacct.stat'),
      f('cpu', 'cpu.stat'),
      f('memory', 'memory.usage_in_bytes'),
      f('memory', 'memory.max_usage_in_bytes'),
      f('memory', 'memory.failcnt'),
      f('memory', 'memory.limit_in_bytes'),
      f('memory', 'memory.stat'),
      f('pids', 'pids.current'),
      f('pids', 'pids.max'),
      f('blkio', 'blkio.throttle.io_service_bytes_recursive'),
      f('blkio', 'blkio.throttle.io_serviced_recursive'),
    ]);
  const cs = kv(cpuStat);
  const th = kv(throttle);
  const limit = int(mLimit);
  const pidsMax = int(pMax);
  return {
    at: new Date(),
    cpu: {
      cpu_usage: {
        total_usage: int(usage) ?? 0,
        percpu_usage: percpu.trim() ? percpu.trim().split(/\s+/).map(Number) : [],
        usage_in_kernelmode: (cs.system ?? 0) * NS_PER_TICK,
        usage_in_usermode: (cs.user ?? 0) * NS_PER_TICK,
      },
      system_cpu_usage: host.systemNs,
      online_cpus: host.cpus,
      throttling_data: {
        periods: th.nr_periods ?? 0,
        throttled_periods: th.nr_throttled ?? 0,
        throttled_time: th.throttled_time ?? 0,
      },
    },
    memory: {
      ...(int(mUsage) !== undefined ? { usage: int(mUsage)! } : {}),
      ...(int(mMax) !== undefined ? { max_usage: int(mMax)! } : {}),
      ...(int(mFail) !== undefined ? { failcnt: int(mFail)! } : {}),
      // An unlimited v1 cgroup reports a page-rounded 2^63; Docker shows the host's memory then.
      limit: limit === undefined || limit > hostMemory ? hostMemory : limit,
      stats: kv(mStat),
    },
    pids: {
      ...(int(pCur) !== undefined ? { current: int(pCur)! } : {}),
      ...(pidsMax !== undefined ? { limit: pidsMax } : {}),
    },
    blkio: { io_service_bytes_recursive: parseBlkio(bBytes), io_serviced_recursive: parseBlkio(bIos) },
  };
}

async function readV2(
  cg: CgroupPaths,
  hostMemory: number,
  host: { systemNs: number; cpus: number },
): Promise<CgroupSample> {
  const f = (n: string) => text(cg.file('', n));
  const [cpuStat, mCur, mPeak, mMax, mStat, pCur, pMax, io] = await Promise.all([
    f('cpu.stat'),
    f('memory.current'),
    f('memory.peak'),
    f('memory.max'),
    f('memory.stat'),
    f('pids.current'),
    f('pids.max'),
    f('io.stat'),
  ]);
  const cs = kv(cpuStat);
  const limit = int(mMax);
  const pidsMax = int(pMax);
  const blk = parseIoStat(io);
  return {
    at: new Date(),
    cpu: {
      cpu_usage: {
        total_usage: (cs.usage_usec ?? 0) * 1000,
        usage_in_kernelmode: (cs.system_usec ?? 0) * 1000,
        usage_in_usermode: (cs.user_usec ?? 0) * 1000,
      },
      system_cpu_usage: host.systemNs,
      online_cpus: host.cpus,
      throttling_data: {
        periods: cs.nr_periods ?? 0,
        throttled_periods: cs.nr_throttled ?? 0,
        throttled_time: (cs.throttled_usec ?? 0) * 1000,
      },
    },
    memory: {
      ...(int(mCur) !== undefined ? { usage: int(mCur)! } : {}),
      ...(int(mPeak) !== undefined ? { max_usage: int(mPeak)! } : {}),
      limit: limit ?? hostMemory,
      stats: kv(mStat),
    },
    pids: {
      ...(int(pCur) !== undefined ? { current: int(pCur)! } : {}),
      ...(pidsMax !== undefined ? { limit: pidsMax } : {}),
    },
    blkio: { io_service_bytes_recursive: blk.bytes, io_serviced_recursive: blk.ios },
  };
}
