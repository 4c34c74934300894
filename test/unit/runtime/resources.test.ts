import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUlimit, resourceHostConfig, statsRow } from '../../../src/cli/commands/container-resources.ts';
import { ramInBytes } from '../../../src/cli/format/index.ts';
import {
  generateSpec,
  type HostResourceFacts,
  hostHardLimits,
  parseBlkio,
  parseCpuset,
  parseIoStat,
  parseProcStat,
  planResources,
} from '../../../src/runtime/index.ts';

const facts: HostResourceFacts = {
  cgroupVersion: 1,
  onlineCpus: new Set([0, 1]),
  onlineMems: new Set([0]),
  hardLimits: { RLIMIT_NOFILE: 20000 },
  swapLimit: true,
  blkioWeight: false,
  blkioThrottle: true,
  deviceNumber: (p) => (p === '/dev/sda' ? { major: 8, minor: 0 } : undefined),
};

const MiB = 1024 * 1024;

test('memory: limit, default swap of twice the limit, -1 unlimited, reservation', () => {
  assert.deepEqual(planResources({ Memory: 512 * MiB }, facts).resources.memory, {
    limit: 512 * MiB,
    swap: 1024 * MiB,
  });
  assert.deepEqual(planResources({ Memory: 64 * MiB, MemorySwap: -1 }, facts).resources.memory, {
    limit: 64 * MiB,
    swap: -1,
  });
  assert.deepEqual(
    planResources({ Memory: 64 * MiB, MemoryReservation: 32 * MiB, OomKillDisable: true }, facts).resources
      .memory,
    { limit: 64 * MiB, reservation: 32 * MiB, swap: 128 * MiB, disableOOMKiller: true },
  );
  const noSwap = planResources({ Memory: 64 * MiB, MemorySwap: 128 * MiB }, { ...facts, swapLimit: false });
  assert.deepEqual(noSwap.resources.memory, { limit: 64 * MiB });
  assert.match(noSwap.warnings[0]!, /swap limit/);
});

test('memory: Docker refusals', () => {
  assert.throws(() => planResources({ Memory: 1024 }, facts), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => planResources({ Memory: -5 }, facts), /negative/);
  assert.throws(() => planResources({ Memory: 64 * MiB, MemorySwap: 32 * MiB }, facts), /larger than memory/);
  assert.throws(() => planResources({ MemorySwap: 64 * MiB }, facts), /always set the Memory limit/);
  assert.throws(() => planResources({ Memory: '1x' as unknown as number }, facts), /invalid Memory/);
  assert.match(planResources({ KernelMemory: 64 * MiB }, facts).warnings.join(), /kernel memory/);
});

test('cpu: NanoCpus to quota/period, conflicts and ranges', () => {
  assert.deepEqual(planResources({ NanoCpus: 1.5e9 }, facts).resources.cpu, {
    quota: 150000,
    period: 100000,
  });
  assert.deepEqual(
    planResources({ CpuShares: 512, CpuPeriod: 50000, CpuQuota: 25000 }, facts).resources.cpu,
    {
      shares: 512,
      quota: 25000,
      period: 50000,
    },
  );
  assert.throws(() => planResources({ NanoCpus: 1e9, CpuQuota: 5000 }, facts), /Conflicting options/);
  assert.throws(() => planResources({ NanoCpus: 1e9, CpuPeriod: 5000 }, facts), /Conflicting options/);
  assert.throws(() => planResources({ NanoCpus: -1e9 }, facts), /negative/);
  assert.throws(() => planResources({ NanoCpus: 3e9 }, facts), /Range of CPUs is from 0.01 to 2.00/);
  assert.throws(() => planResources({ CpuPeriod: 10 }, facts), /cfs period/);
  assert.throws(() => planResources({ CpuQuota: 10 }, facts), /cfs quota/);
});

test('cpuset: parsed and checked against the online CPUs and memory nodes', () => {
  assert.deepEqual([...parseCpuset('0-2,5')], [0, 1, 2, 5]);
  assert.throws(() => parseCpuset('a-b'), /invalid value/);
  assert.deepEqual(planResources({ CpusetCpus: '0-1', CpusetMems: '0' }, facts).resources.cpu, {
    cpus: '0-1',
    mems: '0',
  });
  assert.throws(
    () => planResources({ CpusetCpus: '99' }, facts),
    /Requested CPUs are not available - requested 99, available: 0,1/,
  );
  assert.throws(() => planResources({ CpusetMems: '1' }, facts), /memory nodes are not available/);
});

test('pids, blkio (warned when the kernel lacks weights), throttles by device number', () => {
  assert.deepEqual(planResources({ PidsLimit: 20 }, facts).resources.pids, { limit: 20 });
  assert.equal(planResources({ PidsLimit: -1 }, facts).resources.pids, undefined);
  const w = planResources({ BlkioWeight: 300 }, facts);
  assert.equal(w.resources.blockIO, undefined);
  assert.match(w.warnings[0]!, /Block I\/O weight/);
  assert.deepEqual(planResources({ BlkioWeight: 300 }, { ...facts, blkioWeight: true }).resources.blockIO, {
    weight: 300,
  });
  assert.throws(() => planResources({ BlkioWeight: 5 }, facts), /from 10 to 1000/);
  assert.deepEqual(
    planResources({ BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1024 }] }, facts).resources.blockIO,
    { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1024 }] },
  );
  assert.throws(
    () => planResources({ BlkioDeviceWriteIOps: [{ Path: '/dev/nope', Rate: 1 }] }, facts),
    /not a block device/,
  );
});

test('ulimits: OCI rlimits, never above the host hard limit', () => {
  assert.deepEqual(planResources({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }] }, facts).rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 },
  ]);
  assert.throws(
    () => planResources({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 30000 }] }, facts),
    /above the host's hard limit 20000/,
  );
  assert.throws(
    () => planResources({ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }, facts),
    /invalid ulimit name/,
  );
  assert.deepEqual(
    hostHardLimits(
      'Limit  Soft Limit  Hard Limit  Units\nMax open files            1024                 20000                files\nMax stack size            8388608              unlimited            bytes\n',
    ),
    {
      RLIMIT_NOFILE: 20000,
    },
  );
});

test('the spec carries resources beside the default device rules, and rlimits', () => {
  const plan = planResources({ Memory: 32 * MiB, Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 10 }] }, facts);
  const spec = generateSpec({
    rootfs: '/r',
    args: ['sh'],
    env: [],
    cwd: '/',
    user: { uid: 0, gid: 0 },
    terminal: false,
    hostname: 'h',
    cgroupsPath: '/p/id',
    resources: plan.resources,
    rlimits: plan.rlimits,
  });
  assert.deepEqual(spec.linux.resources.memory, { limit: 32 * MiB, swap: 64 * MiB });
  assert.ok(spec.linux.resources.devices.length > 0);
  assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 10 }]);
});

test('CLI: go-units sizes, --cpus, --ulimit', () => {
  assert.equal(ramInBytes('512m'), 512 * MiB);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 * MiB);
  assert.equal(ramInBytes('64MiB'), 64 * MiB);
  assert.equal(ramInBytes('100'), 100);
  assert.equal(ramInBytes('1x'), undefined);
  assert.equal(ramInBytes('-1'), undefined);
  assert.deepEqual(resourceHostConfig({ memory: '512m', memorySwap: '-1', cpus: '1.5', pidsLimit: '20' }), {
    Memory: 512 * MiB,
    MemorySwap: -1,
    NanoCpus: 1.5e9,
    PidsLimit: 20,
  });
  assert.deepEqual(resourceHostConfig({ deviceReadBps: ['/dev/sda:1mb'] }), {
    BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: MiB }],
  });
  assert.throws(() => resourceHostConfig({ memory: '1x' }), /--memory/);
  assert.throws(() => resourceHostConfig({ cpus: '-1' }), /--cpus/);
  assert.deepEqual(parseUlimit('nofile=1024'), { Name: 'nofile', Soft: 1024, Hard: 1024 });
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Soft: 1024, Hard: 2048 });
  assert.throws(() => parseUlimit('nofile=2:1'), /soft limit/);
});

test('stats: cgroup file parsers and docker CPU % / memory formulas', () => {
  assert.deepEqual(parseProcStat('cpu  100 0 50 850 0 0 0 0 0 0\ncpu0 1 0 0 0\ncpu1 1 0 0 0\n'), {
    systemNs: 1000 * 1e7,
    cpus: 2,
  });
  assert.deepEqual(parseBlkio('8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n'), [
    { major: 8, minor: 0, op: 'Read', value: 4096 },
    { major: 8, minor: 0, op: 'Write', value: 8192 },
    { major: 8, minor: 0, op: 'Total', value: 12288 },
  ]);
  assert.equal(parseIoStat('8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n').bytes[1]!.value, 20);
  const row = statsRow(
    {
      id: 'abcdef0123456789',
      name: '/web',
      read: '2026-01-01T00:00:01Z',
      pids_stats: { current: 3 },
      blkio_stats: {
        io_service_bytes_recursive: [
          { op: 'Read', value: 2000 },
          { op: 'Write', value: 0 },
        ],
      },
      cpu_stats: { cpu_usage: { total_usage: 1.5e9 }, system_cpu_usage: 4e9, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1e9 }, system_cpu_usage: 2e9 },
      memory_stats: { usage: 12 * MiB, limit: 64 * MiB, stats: { total_inactive_file: 4 * MiB } },
      networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
    },
    { container: 'abcdef012345', trunc: true },
  );
  assert.deepEqual(row, {
    ID: 'abcdef012345',
    Container: 'abcdef012345',
    Name: 'web',
    CPUPerc: '50.00%',
    MemUsage: '8MiB / 64MiB',
    MemPerc: '12.50%',
    NetIO: '2kB / 500B',
    BlockIO: '2kB / 0B',
    PIDs: '3',
  });
});
