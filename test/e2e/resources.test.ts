// Resource limits, update, OOM and stats through the real docker CLI, the berth CLI and the API,
// each checked where it takes effect: in the container's cgroup files or inside the container.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';
import { useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

/** A file of the container's cgroup (v1 layout: <controller>/<parent>/<id>). */
function cg(controller: string, id: string, file: string): string {
  const parent = `berth-test-${path.basename(daemon.d.dir).replace(/^berth-test-/, '')}`;
  return readFileSync(path.join('/sys/fs/cgroup', controller, parent, id, file), 'utf8').trim();
}

async function runDetached(args: string[]): Promise<string> {
  const r = await daemon.d.docker(['run', '-d', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

interface Inspected {
  Id: string;
  State: { OOMKilled: boolean; ExitCode: number };
  HostConfig: Record<string, unknown>;
}

async function inspect(id: string): Promise<Inspected> {
  const r = await daemon.d.docker(['inspect', id]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

async function count(): Promise<number> {
  return (await daemon.d.docker(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean).length;
}

describe('limits', () => {
  test('a process allocating past --memory 32m is OOM-killed and reported', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    // tail keeps the whole "line" of /dev/zero in memory: it grows until the limit.
    const r = await daemon.d.docker([
      'run',
      '--name',
      'oom',
      '--memory',
      '32m',
      '--memory-swap',
      '32m',
      'busybox',
      'tail',
      '/dev/zero',
    ]);
    assert.equal(r.code, 137, r.stderr);
    const info = await inspect('oom');
    assert.equal(info.State.OOMKilled, true);
    assert.equal(info.State.ExitCode, 137);
    assert.equal(info.HostConfig.Memory, 32 * 1024 * 1024);
    const until = Math.ceil(Date.now() / 1000) + 1;
    const ev = await daemon.d.docker([
      'events',
      '--since',
      String(since),
      '--until',
      String(until),
      '--filter',
      `container=${info.Id}`,
      '--format',
      '{{.Action}}',
    ]);
    const actions = ev.stdout.trim().split('\n');
    assert.ok(actions.includes('oom'), ev.stdout);
    assert.ok(actions.indexOf('oom') < actions.indexOf('die'), ev.stdout);
  });

  test('--pids-limit 20 stops a fork loop', async () => {
    // The loop runs in a subshell: the shell that fails to fork dies, the outer one reports.
    const id = await runDetached([
      '--pids-limit',
      '20',
      'busybox',
      'sh',
      '-c',
      '(for i in $(seq 1 40); do sleep 60 & done) 2>&1; echo spawned; sleep 60',
    ]);
    assert.equal(cg('pids', id, 'pids.max'), '20');
    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('spawned'); i++) {
      const l = await daemon.d.docker(['logs', id]);
      logs = l.stdout + l.stderr;
      if (!logs.includes('spawned')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(logs, /can't fork|Resource temporarily unavailable/, logs);
    assert.ok(Number(cg('pids', id, 'pids.current')) <= 20);
    assert.ok(Number(cg('pids', id, 'pids.current')) >= 10);
    await daemon.d.docker(['rm', '-f', id]);
  });

  test('--cpus 0.5 sets the CFS quota and caps a busy loop near half a CPU', async () => {
    const id = await runDetached(['--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done']);
    assert.equal(cg('cpu', id, 'cpu.cfs_quota_us'), '50000');
    assert.equal(cg('cpu', id, 'cpu.cfs_period_us'), '100000');
    const t0 = process.hrtime.bigint();
    const u0 = BigInt(cg('cpuacct', id, 'cpuacct.usage'));
    await new Promise((r) => setTimeout(r, 1200));
    const u1 = BigInt(cg('cpuacct', id, 'cpuacct.usage'));
    const t1 = process.hrtime.bigint();
    const used = Number(u1 - u0) / Number(t1 - t0);
    assert.ok(used < 0.75, `busy loop used ${used.toFixed(2)} CPUs`);
    assert.ok(used > 0.05, `busy loop barely ran: ${used.toFixed(2)} CPUs`);
    const info = await inspect(id);
    assert.equal(info.HostConfig.NanoCpus, 5e8);
    await daemon.d.docker(['rm', '-f', id]);
  });

  test('--cpuset-cpus 0 pins the process to CPU 0', async () => {
    const r = await daemon.d.docker([
      'run',
      '--rm',
      '--cpuset-cpus',
      '0',
      'busybox',
      'grep',
      'Cpus_allowed_list',
      '/proc/self/status',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Cpus_allowed_list:\s+0\n/);
  });

  test('--ulimit nofile=1024:1024 is what ulimit -n sees; above the host hard limit is refused', async () => {
    const r = await daemon.d.docker([
      'run',
      '--rm',
      '--ulimit',
      'nofile=1024:1024',
      'busybox',
      'sh',
      '-c',
      'ulimit -n; ulimit -Hn',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1024\n1024\n');
    const b = await daemon.d.berth([
      'run',
      '--rm',
      '--ulimit',
      'nofile=512:1000',
      'busybox',
      'sh',
      '-c',
      'ulimit -n',
    ]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, '512\n');
    const before = await count();
    const big = await daemon.d.docker([
      'run',
      '--rm',
      '--ulimit',
      'nofile=99999999:99999999',
      'busybox',
      'true',
    ]);
    assert.notEqual(big.code, 0);
    assert.match(big.stderr, /above the host's hard limit/);
    assert.equal(await count(), before);
  });

  test('update changes the memory limit of a running container (docker and berth CLIs)', async () => {
    const id = await runDetached(['--memory', '64m', 'busybox', 'sleep', '60']);
    assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(64 << 20));
    const u = await daemon.d.docker(['update', '--memory', '96m', '--memory-swap', '192m', id]);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(96 << 20));
    assert.equal((await inspect(id)).HostConfig.Memory, 96 << 20);
    const b = await daemon.d.berth([
      'update',
      '--memory',
      '128m',
      '--memory-swap',
      '256m',
      '--pids-limit',
      '50',
      id,
    ]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(128 << 20));
    assert.equal(cg('pids', id, 'pids.max'), '50');
    await daemon.d.docker(['rm', '-f', id]);
  });

  test('the berth CLI sends its resource flags and the limits reach the cgroup', async () => {
    const r = await daemon.d.berth([
      'run',
      '-d',
      '--memory',
      '48m',
      '--cpus',
      '1.5',
      '--cpu-shares',
      '512',
      '--pids-limit',
      '30',
      'busybox',
      'sleep',
      '60',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.equal(cg('memory', id, 'memory.limit_in_bytes'), String(48 << 20));
    assert.equal(cg('cpu', id, 'cpu.cfs_quota_us'), '150000');
    assert.equal(cg('cpu', id, 'cpu.shares'), '512');
    assert.equal(cg('pids', id, 'pids.max'), '30');
    await daemon.d.docker(['rm', '-f', id]);
  });
});

describe('bad input', () => {
  test('bad values are 400 before anything is created', async () => {
    const before = await count();
    const create = (host: Record<string, unknown>) =>
      daemon.d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: host }), {
        'Content-Type': 'application/json',
      });
    for (const [host, msg] of [
      [{ Memory: '1x' }, /Memory/],
      [{ NanoCpus: -1000000000 }, /CPUs/],
      [{ CpusetCpus: '99' }, /Requested CPUs are not available/],
      [{ NanoCpus: 1e9, CpuQuota: 50000 }, /Conflicting options/],
      [{ Memory: 1024 }, /Minimum memory limit/],
      [{ Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 99999999 }] }, /hard limit/],
    ] as const) {
      const r = await create(host);
      assert.equal(r.status, 400, `${JSON.stringify(host)}: ${r.body}`);
      assert.match(JSON.parse(r.body.toString()).message, msg);
    }
    const cli = await daemon.d.docker(['run', '--cpuset-cpus', '99', 'busybox', 'true']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /Requested CPUs are not available - requested 99/);
    const bm = await daemon.d.berth(['run', '--memory', '1x', 'busybox', 'true']);
    assert.equal(bm.code, 125);
    assert.match(bm.stderr, /--memory/);
    const bc = await daemon.d.berth(['run', '--cpus', '-1', 'busybox', 'true']);
    assert.equal(bc.code, 125);
    assert.match(bc.stderr, /--cpus/);
    assert.equal(await count(), before);
  });

  test('KernelMemory is accepted with a warning below API 1.42 and ignored from 1.42, as Docker', async () => {
    const create = async (prefix: string) => {
      const r = await daemon.d.request(
        'POST',
        `${prefix}/containers/create`,
        JSON.stringify({ Image: 'busybox', HostConfig: { KernelMemory: 64 << 20 } }),
        { 'Content-Type': 'application/json' },
      );
      assert.equal(r.status, 201, r.body.toString());
      return JSON.parse(r.body.toString()) as { Id: string; Warnings: string[] };
    };
    const old = await create('/v1.41');
    assert.match(old.Warnings.join('\n'), /kernel memory/);
    const now = await create('/v1.50');
    assert.doesNotMatch((now.Warnings ?? []).join('\n'), /kernel memory/);
    await daemon.d.docker(['rm', old.Id, now.Id]);
  });
});

describe('stats', () => {
  test('docker stats --no-stream renders Berth stats with sane numbers', async () => {
    const id = await runDetached([
      '--name',
      'st',
      '--memory',
      '64m',
      'busybox',
      'sh',
      '-c',
      'while :; do :; done',
    ]);
    const r = await daemon.d.docker(['stats', '--no-stream', '--format', '{{json .}}', 'st']);
    assert.equal(r.code, 0, r.stderr);
    const row = JSON.parse(r.stdout);
    assert.equal(row.Name, 'st');
    assert.equal(row.ID, id.slice(0, 12));
    assert.match(row.MemUsage, /^[\daemon.d.]+[KMG]?i?B \/ 64MiB$/);
    const cpu = Number.parseFloat(row.CPUPerc);
    assert.ok(cpu > 1 && cpu <= 200, row.CPUPerc);
    assert.ok(Number(row.PIDs) >= 1, row.PIDs);

    const table = await daemon.d.docker(['stats', '--no-stream', 'st']);
    assert.match(
      table.stdout,
      /CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS/,
    );
    const ours = await daemon.d.berth(['stats', '--no-stream', 'st']);
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(ours.stdout, /CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT/);
    assert.match(
      ours.stdout,
      new RegExp(`${id.slice(0, 12)}\\s+st\\s+[\\daemon.d.]+%\\s+[\\daemon.d.]+\\w+ / 64MiB`),
    );

    const api = await daemon.d.request('GET', `/containers/${id}/stats?stream=false`);
    assert.equal(api.status, 200);
    const s = JSON.parse(api.body.toString());
    for (const k of [
      'read',
      'preread',
      'pids_stats',
      'blkio_stats',
      'num_procs',
      'cpu_stats',
      'precpu_stats',
      'memory_stats',
      'name',
      'id',
    ])
      assert.ok(k in s, `missing ${k}`);
    assert.equal(s.memory_stats.limit, 64 << 20);
    assert.ok(s.cpu_stats.cpu_usage.total_usage > s.precpu_stats.cpu_usage.total_usage);
    assert.equal(s.cpu_stats.online_cpus, 2);
    assert.ok(Array.isArray(s.cpu_stats.cpu_usage.percpu_usage));
    assert.ok('throttling_data' in s.cpu_stats);
    const one = JSON.parse(
      (await daemon.d.request('GET', `/containers/${id}/stats?stream=false&one-shot=true`)).body.toString(),
    );
    assert.equal(one.preread, '0001-01-01T00:00:00Z');
    assert.ok(one.pids_stats.current >= 1);
    await daemon.d.docker(['rm', '-f', id]);
  });

  test('stream=true sends one object a second with precpu from the previous one', async () => {
    const id = await runDetached(['busybox', 'sleep', '60']);
    const lines = await new Promise<string[]>((resolve, reject) => {
      const got: string[] = [];
      let buf = '';
      const req = http.get(
        { socketPath: daemon.d.socket, path: `/containers/${id}/stats`, timeout: 10_000 },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            buf += c;
            let i = buf.indexOf('\n');
            while (i !== -1) {
              got.push(buf.slice(0, i));
              buf = buf.slice(i + 1);
              i = buf.indexOf('\n');
            }
            if (got.length >= 2) {
              req.destroy();
              resolve(got);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('no second stats object within 10 s')));
      req.on('error', (e) => (got.length >= 2 ? undefined : reject(e)));
    });
    const [a, b] = lines.map((l) => JSON.parse(l));
    assert.equal(a.preread, '0001-01-01T00:00:00Z');
    assert.equal(b.preread, a.read);
    assert.equal(b.precpu_stats.cpu_usage.total_usage, a.cpu_stats.cpu_usage.total_usage);
    // A stopped container: berth stats -a shows it with dashes, as docker does.
    await daemon.d.docker(['stop', '-t', '0', id]);
    const all = await daemon.d.berth([
      'stats',
      '--no-stream',
      '-a',
      '--format',
      '{{.ID}} {{.CPUPerc}} {{.MemUsage}}',
    ]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, new RegExp(`${id.slice(0, 12)} -- -- / --`));
    await daemon.d.docker(['rm', '-f', id]);
  });
});
