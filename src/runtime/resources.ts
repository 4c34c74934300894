// HostConfig resource fields (Docker's names) → OCI `linux.resources` and `process.rlimits`,
// validated the way Docker's daemon validates them. Pure: host facts come in as an argument
// (see resources-host.ts for reading them).
import { InvalidArgumentError } from '../errdefs/index.ts';
import { getOwn } from '../base/own.ts';

export interface ThrottleDevice {
  Path: string;
  Rate: number;
}
export interface WeightDevice {
  Path: string;
  Weight: number;
}
export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** The HostConfig fields this module reads. */
export interface ResourceFields {
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  MemorySwappiness?: number | null;
  KernelMemory?: number;
  OomKillDisable?: boolean | null;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  BlkioWeight?: number;
  BlkioWeightDevice?: WeightDevice[] | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  ShmSize?: number;
}

export interface HostResourceFacts {
  readonly cgroupVersion: 1 | 2;
  readonly onlineCpus: ReadonlySet<number>;
  readonly onlineMems: ReadonlySet<number>;
  /** Hard limits of berthd's own rlimits by OCI name (RLIMIT_NOFILE → 20000); absent = unlimited. */
  readonly hardLimits: Readonly<Record<string, number>>;
  readonly swapLimit: boolean;
  /** cgroup v1's memory.swappiness exists (v2 has no per-cgroup swappiness); absent = no. */
  readonly swappiness?: boolean;
  readonly blkioWeight: boolean;
  readonly blkioThrottle: boolean;
  /** major:minor of a block device path, or undefined when it is not one. */
  readonly deviceNumber: (path: string) => { major: number; minor: number } | undefined;
}

export interface OciResources {
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
  };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    weightDevice?: { major: number; minor: number; weight: number }[];
    throttleReadBpsDevice?: { major: number; minor: number; rate: number }[];
    throttleWriteBpsDevice?: { major: number; minor: number; rate: number }[];
    throttleReadIOPSDevice?: { major: number; minor: number; rate: number }[];
    throttleWriteIOPSDevice?: { major: number; minor: number; rate: number }[];
  };
}

export interface OciRlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface ResourcePlan {
  readonly resources: OciResources;
  readonly rlimits: OciRlimit[];
  readonly warnings: string[];
}

const MIN_MEMORY = 6 * 1024 * 1024;

function bad(message: string): never {
  throw new InvalidArgumentError('INVALID_RESOURCES', message);
}

function num(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isInteger(v))
    bad(`invalid ${field}: expected an integer, got ${JSON.stringify(v)}`);
  return v;
}

/** "0-2,5" → {0,1,2,5}; throws on malformed lists. */
export function parseCpuset(s: string, field = 'cpuset'): Set<number> {
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) bad(`invalid value ${JSON.stringify(s)} for ${field}: use a list like 0-2,4`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 4096) bad(`invalid range ${part} for ${field}`);
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

function fmtSet(s: ReadonlySet<number>): string {
  return [...s].sort((a, b) => a - b).join(',');
}

/** Docker's ulimit names (`nofile`) → OCI rlimit types (`RLIMIT_NOFILE`). */
export const ULIMIT_NAMES: Record<string, string> = {
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
  as: 'RLIMIT_AS',
};

/**
 * Validates the resource fields and plans the OCI resources. Throws InvalidArgumentError (400)
 * naming the bad field; features the kernel lacks are dropped with a warning, as Docker does.
 */
export function planResources(h: ResourceFields, facts: HostResourceFacts): ResourcePlan {
  const warnings: string[] = [];
  const resources: OciResources = {};

  const memory = num(h.Memory, 'Memory') ?? 0;
  let swap = num(h.MemorySwap, 'MemorySwap') ?? 0;
  const reservation = num(h.MemoryReservation, 'MemoryReservation') ?? 0;
  if (memory < 0) bad('invalid Memory: a memory limit cannot be negative');
  if (memory > 0 && memory < MIN_MEMORY) bad('Minimum memory limit allowed is 6MB');
  if (swap < -1) bad('invalid MemorySwap: use -1 for unlimited swap or a size larger than the memory limit');
  if (swap > 0 && memory === 0)
    bad('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (swap > 0 && swap < memory)
    bad('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (reservation < 0) bad('invalid MemoryReservation: cannot be negative');
  if (reservation > 0 && reservation < MIN_MEMORY) bad('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > memory)
    bad('Minimum memory limit can not be less than memory reservation limit, see usage');
  if ((num(h.KernelMemory, 'KernelMemory') ?? 0) !== 0)
    warnings.push(
      'Specifying a kernel memory limit is deprecated and will be removed in a future release; the limit is ignored.',
    );
  if (swap !== 0 && !facts.swapLimit) {
    warnings.push(
      'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
    );
    swap = 0;
  }
  // Docker's default: with a memory limit and no swap setting, swap may use as much again.
  if (memory > 0 && swap === 0 && facts.swapLimit) swap = memory * 2;
  const oomOff = h.OomKillDisable === true;
  if (oomOff && memory === 0)
    warnings.push(
      'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.',
    );
  let swappiness = num(h.MemorySwappiness, 'MemorySwappiness') ?? -1;
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100))
    bad(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  if (swappiness !== -1 && facts.swappiness !== true) {
    warnings.push(
      'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
    );
    swappiness = -1;
  }
  if (memory || swap || reservation || oomOff || swappiness !== -1) {
    resources.memory = {
      ...(memory ? { limit: memory } : {}),
      ...(reservation ? { reservation } : {}),
      ...(swap ? { swap } : {}),
      ...(swappiness !== -1 ? { swappiness } : {}),
      ...(oomOff ? { disableOOMKiller: true } : {}),
    };
  }

  const nano = num(h.NanoCpus, 'NanoCpus') ?? 0;
  const shares = num(h.CpuShares, 'CpuShares') ?? 0;
  let period = num(h.CpuPeriod, 'CpuPeriod') ?? 0;
  let quota = num(h.CpuQuota, 'CpuQuota') ?? 0;
  if (nano < 0) bad('invalid NanoCpus: the number of CPUs cannot be negative');
  if (nano > 0 && period > 0) bad('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0) bad('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const ncpu = facts.onlineCpus.size;
  if (nano > 0 && (nano < 1e7 || nano > ncpu * 1e9))
    bad(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  if (shares < 0) bad('invalid CpuShares: cannot be negative');
  if (period !== 0 && (period < 1000 || period > 1_000_000))
    bad('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota !== 0 && quota !== -1 && quota < 1000) bad('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (nano > 0) {
    period = 100_000;
    quota = Math.round((nano * period) / 1e9);
  }
  const cpus = h.CpusetCpus || '';
  const mems = h.CpusetMems || '';
  if (cpus) {
    const want = parseCpuset(cpus, 'CpusetCpus');
    const missing = [...want].filter((c) => !facts.onlineCpus.has(c));
    if (missing.length)
      bad(`Requested CPUs are not available - requested ${cpus}, available: ${fmtSet(facts.onlineCpus)}`);
  }
  if (mems) {
    const want = parseCpuset(mems, 'CpusetMems');
    if ([...want].some((m) => !facts.onlineMems.has(m)))
      bad(
        `Requested memory nodes are not available - requested ${mems}, available: ${fmtSet(facts.onlineMems)}`,
      );
  }
  if (shares || period || quota || cpus || mems) {
    resources.cpu = {
      ...(shares ? { shares } : {}),
      ...(quota ? { quota } : {}),
      ...(period ? { period } : {}),
      ...(cpus ? { cpus } : {}),
      ...(mems ? { mems } : {}),
    };
  }

  const pids = num(h.PidsLimit, 'PidsLimit') ?? 0;
  // Docker: 0 and -1 both mean unlimited; other negatives are treated as unlimited too.
  if (pids > 0) resources.pids = { limit: pids };

  const blockIO: NonNullable<OciResources['blockIO']> = {};
  const weight = num(h.BlkioWeight, 'BlkioWeight') ?? 0;
  if (weight !== 0 && (weight < 10 || weight > 1000)) bad('Range of blkio weight is from 10 to 1000');
  const dev = (p: string, field: string) => {
    const d = facts.deviceNumber(p);
    if (!d) bad(`invalid ${field}: ${p} is not a block device on this host`);
    return d;
  };
  const weightDevs = (h.BlkioWeightDevice ?? []).map((w) => {
    const wt = num(w.Weight, 'BlkioWeightDevice weight') ?? 0;
    if (wt < 10 || wt > 1000) bad('Range of blkio weight is from 10 to 1000');
    return { ...dev(w.Path, 'BlkioWeightDevice'), weight: wt };
  });
  if (weight || weightDevs.length) {
    if (!facts.blkioWeight) {
      warnings.push(
        'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
      );
    } else {
      if (weight) blockIO.weight = weight;
      if (weightDevs.length) blockIO.weightDevice = weightDevs;
    }
  }
  const throttles = [
    ['BlkioDeviceReadBps', 'throttleReadBpsDevice', 'read bps'],
    ['BlkioDeviceWriteBps', 'throttleWriteBpsDevice', 'write bps'],
    ['BlkioDeviceReadIOps', 'throttleReadIOPSDevice', 'read IOPS'],
    ['BlkioDeviceWriteIOps', 'throttleWriteIOPSDevice', 'write IOPS'],
  ] as const;
  for (const [field, oci, what] of throttles) {
    const list = (h[field] ?? []).map((t) => {
      const rate = num(t.Rate, field) ?? 0;
      if (rate < 0) bad(`invalid ${field}: a rate cannot be negative`);
      return { ...dev(t.Path, field), rate };
    });
    if (!list.length) continue;
    if (!facts.blkioThrottle)
      warnings.push(
        `Your kernel does not support BPS/IOPS Block I/O ${what} limit or the cgroup is not mounted. Block I/O limit discarded.`,
      );
    else blockIO[oci] = list;
  }
  if (Object.keys(blockIO).length) resources.blockIO = blockIO;

  const rlimits: OciRlimit[] = [];
  for (const u of h.Ulimits ?? []) {
    const type = getOwn(ULIMIT_NAMES, u.Name);
    if (!type)
      bad(
        `invalid ulimit name ${JSON.stringify(u.Name)}: use one of ${Object.keys(ULIMIT_NAMES).join(', ')}`,
      );
    const soft = num(u.Soft, `ulimit ${u.Name} soft`) ?? 0;
    const hard = num(u.Hard, `ulimit ${u.Name} hard`) ?? 0;
    if (soft > hard) bad(`invalid ulimit ${u.Name}: soft limit ${soft} is above hard limit ${hard}`);
    const cap = facts.hardLimits[type];
    // Without CAP_SYS_RESOURCE nothing may raise a hard limit above berthd's own.
    if (cap !== undefined && hard > cap)
      bad(
        `invalid ulimit ${u.Name}: hard limit ${hard} is above the host's hard limit ${cap}; ask for at most ${u.Name}=${Math.min(soft, cap)}:${cap}`,
      );
    rlimits.push({ type, soft, hard });
  }

  if (h.ShmSize !== undefined && h.ShmSize !== null) {
    const shm = num(h.ShmSize, 'ShmSize') ?? 0;
    if (shm < 0) bad('SHM size can not be less than 0');
  }
  return { resources, rlimits, warnings };
}

/** The fields `POST /containers/{id}/update` may change (Docker's Resources, minus devices). */
export const UPDATABLE_FIELDS = [
  'Memory',
  'MemorySwap',
  'MemoryReservation',
  'KernelMemory',
  'NanoCpus',
  'CpuShares',
  'CpuPeriod',
  'CpuQuota',
  'CpusetCpus',
  'CpusetMems',
  'BlkioWeight',
  'PidsLimit',
] as const;
