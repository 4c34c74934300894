// Resource flags for run/create/update (docker's names and go-units parsing), and `berth stats`.
import { effectiveFormat } from '../config-formats.ts';
import type { Command } from 'commander';
import { CliError, type CliContext, collect } from '../context.ts';
import { bytesSize, humanSize, ramInBytes, renderList, sprintf } from '../format/index.ts';
import { addUnsupported } from './unsupported.ts';

export interface ResourceOptions {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  kernelMemory?: string;
  oomKillDisable?: boolean;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  blkioWeight?: string;
  blkioWeightDevice?: string[];
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  pidsLimit?: string;
  ulimit?: string[];
  shmSize?: string;
}

/** Flags both `run`/`create` and `update` take. */
export function addUpdatableOptions(c: Command): Command {
  return c
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--kernel-memory <bytes>', 'Kernel memory limit (deprecated, ignored)')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)');
}

export function addResourceOptions(c: Command): Command {
  return addUpdatableOptions(c)
    .option('--oom-kill-disable', 'Disable OOM Killer')
    .option('--blkio-weight-device <list>', 'Block IO weight (relative device weight)', collect, [])
    .option('--device-read-bps <list>', 'Limit read rate (bytes per second) from a device', collect, [])
    .option('--device-write-bps <list>', 'Limit write rate (bytes per second) to a device', collect, [])
    .option('--device-read-iops <list>', 'Limit read rate (IO per second) from a device', collect, [])
    .option('--device-write-iops <list>', 'Limit write rate (IO per second) to a device', collect, [])
    .option('--ulimit <ulimit>', 'Ulimit options', collect, [])
    .option('--shm-size <bytes>', 'Size of /dev/shm');
}

function usage(msg: string): never {
  throw new CliError(`invalid argument: ${msg}\nSee 'berth run --help'.`, 125);
}

function bytes(v: string | undefined, flag: string, allowMinusOne = false): number | undefined {
  if (v === undefined) return undefined;
  if (allowMinusOne && v.trim() === '-1') return -1;
  const n = ramInBytes(v);
  if (n === undefined) usage(`invalid size: '${v}' for ${flag}: use a size like 512m, 1g or 100k`);
  return n;
}

function int(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim())) usage(`"${v}" for ${flag}: expected an integer`);
  return Number(v);
}

/** `--device-read-bps /dev/sda:1mb` → {Path, Rate}. */
function throttle(list: string[] | undefined, flag: string, isBytes: boolean) {
  return (list ?? []).map((s) => {
    const i = s.lastIndexOf(':');
    if (i <= 0 || !s.startsWith('/dev/')) usage(`bad format for ${flag} "${s}": use /dev/<device>:<rate>`);
    const raw = s.slice(i + 1);
    const rate = isBytes ? ramInBytes(raw) : /^\d+$/.test(raw) ? Number(raw) : undefined;
    if (rate === undefined) usage(`invalid rate "${raw}" for ${flag}`);
    return { Path: s.slice(0, i), Rate: rate };
  });
}

/** The HostConfig resource fields for the flags given (nothing for flags not given). */
export function resourceHostConfig(o: ResourceOptions): Record<string, unknown> {
  const h: Record<string, unknown> = {};
  const set = (k: string, v: unknown) => {
    if (v !== undefined) h[k] = v;
  };
  set('Memory', bytes(o.memory, '--memory'));
  set('MemorySwap', bytes(o.memorySwap, '--memory-swap', true));
  set('MemoryReservation', bytes(o.memoryReservation, '--memory-reservation'));
  set('KernelMemory', bytes(o.kernelMemory, '--kernel-memory'));
  if (o.oomKillDisable) h.OomKillDisable = true;
  if (o.cpus !== undefined) {
    const n = Number(o.cpus);
    if (!/^\d*\.?\d+$/.test(o.cpus.trim()) || !Number.isFinite(n))
      usage(`invalid value "${o.cpus}" for --cpus: use a number like 1.5`);
    h.NanoCpus = Math.round(n * 1e9);
  }
  set('CpuShares', int(o.cpuShares, '--cpu-shares'));
  set('CpuPeriod', int(o.cpuPeriod, '--cpu-period'));
  set('CpuQuota', int(o.cpuQuota, '--cpu-quota'));
  set('CpusetCpus', o.cpusetCpus);
  set('CpusetMems', o.cpusetMems);
  set('BlkioWeight', int(o.blkioWeight, '--blkio-weight'));
  set('PidsLimit', int(o.pidsLimit, '--pids-limit'));
  if (o.blkioWeightDevice?.length) {
    h.BlkioWeightDevice = o.blkioWeightDevice.map((s) => {
      const i = s.lastIndexOf(':');
      const w = Number(s.slice(i + 1));
      if (i <= 0 || !Number.isInteger(w))
        usage(`bad format for --blkio-weight-device "${s}": use /dev/<device>:<weight>`);
      return { Path: s.slice(0, i), Weight: w };
    });
  }
  const t = [
    ['BlkioDeviceReadBps', o.deviceReadBps, '--device-read-bps', true],
    ['BlkioDeviceWriteBps', o.deviceWriteBps, '--device-write-bps', true],
    ['BlkioDeviceReadIOps', o.deviceReadIops, '--device-read-iops', false],
    ['BlkioDeviceWriteIOps', o.deviceWriteIops, '--device-write-iops', false],
  ] as const;
  for (const [k, list, flag, isBytes] of t) if (list?.length) h[k] = throttle([...list], flag, isBytes);
  if (o.ulimit?.length) h.Ulimits = o.ulimit.map(parseUlimit);
  set('ShmSize', bytes(o.shmSize, '--shm-size'));
  return h;
}

/** go-units ParseUlimit: `nofile=1024[:2048]`. */
export function parseUlimit(s: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s.trim());
  if (!m) usage(`invalid ulimit "${s}": use name=soft[:hard], e.g. nofile=1024:2048`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard) usage(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1]!, Soft: soft, Hard: hard };
}

interface StatsJson {
  id: string;
  name: string;
  read: string;
  pids_stats: { current?: number };
  blkio_stats: { io_service_bytes_recursive: { op: string; value: number }[] | null };
  cpu_stats: {
    cpu_usage: { total_usage: number; percpu_usage?: number[] };
    system_cpu_usage?: number;
    online_cpus?: number;
  };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
}

/**
 * One `docker stats` row from a stats object, with docker's CPU % and memory formulas.
 * `container` is what docker keeps as `.Container`: the name or ID the user typed, or the
 * short ID when listing; `trunc` is false with --no-trunc (the full ID).
 */
export function statsRow(s: StatsJson, opts: { container: string; trunc: boolean }) {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 0;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  const st = s.memory_stats.stats ?? {};
  // v1 subtracts total_inactive_file, v2 inactive_file: page cache the kernel can drop.
  const inactive = st.total_inactive_file ?? st.inactive_file ?? 0;
  const usage = s.memory_stats.usage ?? 0;
  const mem = inactive < usage ? usage - inactive : usage;
  const limit = s.memory_stats.limit ?? 0;
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats.io_service_bytes_recursive ?? []) {
    if (e.op.toLowerCase() === 'read') read += e.value;
    if (e.op.toLowerCase() === 'write') write += e.value;
  }
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  const running = s.read !== '0001-01-01T00:00:00Z';
  return {
    ID: opts.trunc ? s.id.slice(0, 12) : s.id,
    Container: opts.container,
    Name: s.name.replace(/^\//, '') || '--',
    CPUPerc: running ? sprintf('%.2f%%', cpu) : '--',
    MemUsage: running ? `${bytesSize(mem)} / ${bytesSize(limit)}` : '-- / --',
    MemPerc: running ? sprintf('%.2f%%', limit > 0 ? (mem / limit) * 100 : 0) : '--',
    NetIO: running ? `${humanSize(rx)} / ${humanSize(tx)}` : '--',
    BlockIO: running ? `${humanSize(read)} / ${humanSize(write)}` : '--',
    PIDs: running ? String(s.pids_stats.current ?? 0) : '--',
  };
}

const STATS_TABLE =
  'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const STATS_HEADERS = {
  ID: 'CONTAINER ID',
  Container: 'CONTAINER',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

export function registerResourceCommands(program: Command, container: Command, ctx: CliContext): void {
  for (const c of [program.command('update'), container.command('update')]) {
    addUnsupported(
      addUpdatableOptions(
        c.description('Update configuration of one or more containers').argument('<CONTAINER...>'),
      ),
      [
        {
          flags: '--cpu-rt-period <int>',
          description: 'Limit the CPU real-time period in microseconds',
          reason: 'the CPU real-time scheduler is not available under cgroup v2',
        },
        {
          flags: '--cpu-rt-runtime <int>',
          description: 'Limit the CPU real-time runtime in microseconds',
          reason: 'the CPU real-time scheduler is not available under cgroup v2',
        },
        {
          flags: '--restart <string>',
          description: 'Restart policy to apply when a container exits',
          reason: "berthd's update changes resources only; recreate the container with run --restart",
        },
      ],
    ).action(async (ids: string[], o: ResourceOptions) => {
      const body = resourceHostConfig(o);
      let failed = false;
      for (const id of ids) {
        try {
          const r = await ctx
            .client()
            .json<{ Warnings: string[] | null }>('POST', `/containers/${id}/update`, { body });
          for (const w of r.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`);
          ctx.out.write(`${id}\n`);
        } catch (err) {
          failed = true;
          ctx.err.write(`Error response from daemon: ${(err as Error).message}\n`);
        }
      }
      if (failed) throw new CliError('', 1);
    });
  }

  for (const c of [program.command('stats'), container.command('stats')]) {
    c.description('Display a live stream of container(s) resource usage statistics')
      .argument('[CONTAINER...]')
      .option('-a, --all', 'Show all containers (default shows just running)')
      .option('--no-stream', 'Disable streaming stats and only pull the first result')
      .option('--no-trunc', 'Do not truncate output')
      .option('--format <string>', 'Format output using a custom template')
      .action(
        async (ids: string[], o: { all?: boolean; stream: boolean; trunc: boolean; format?: string }) => {
          const format = effectiveFormat(o.format, 'statsFormat');
          const targets = async (): Promise<string[]> => {
            if (ids.length) return ids;
            const list = await ctx
              .client()
              .json<{ Id: string }[]>('GET', '/containers/json', { query: { all: o.all ? '1' : undefined } });
            // docker names a listed container by its short ID (what `.Container` prints).
            return list.map((x) => x.Id.slice(0, 12));
          };
          const sample = async (list: string[]) =>
            Promise.all(
              list.map((id) =>
                ctx
                  .client()
                  .json<StatsJson>('GET', `/containers/${encodeURIComponent(id)}/stats`, {
                    query: { stream: 'false' },
                  })
                  .then((s) => statsRow(s, { container: id, trunc: o.trunc !== false })),
              ),
            );
          // A container gone between the listing and its sample drops out of this frame only.
          const sampleEach = async (list: string[]) =>
            (await Promise.all(list.map((id) => sample([id]).catch(() => [])))).flat();
          const render = (rows: ReturnType<typeof statsRow>[]) =>
            renderList({ format, defaultTableFormat: STATS_TABLE, headers: STATS_HEADERS, rows });
          if (!o.stream) {
            ctx.out.write(render(await sample(await targets())));
            return;
          }
          // Live: a frame a second until interrupted (Ctrl-C ends the process). Containers are
          // listed again each time, so one started meanwhile appears in the next frame.
          let list = await targets();
          let rows = await sample(list);
          for (;;) {
            ctx.out.write(liveStatsFrame(render(rows)));
            await new Promise((r) => setTimeout(r, 1000));
            list = await targets().catch(() => list);
            rows = await sampleEach(list);
          }
        },
      );
  }
}

/**
 * One frame of live `stats` as docker 28 writes it, tty or not: cursor home, every line followed
 * by ` ESC[K` (erasing what a longer line of the last frame left), then ESC[J for the rows of
 * containers gone since. docker 28 also writes the plain table once before its erased copy (its
 * buffer is appended to while split); on a terminal both show the same, so berth writes it once.
 */
export function liveStatsFrame(table: string): string {
  return `\x1b[H${table
    .split('\n')
    .map((l) => `${l} \x1b[K\n`)
    .join('')}\x1b[J`;
}
