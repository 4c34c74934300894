// What a kubelet reads from and runs in CRI containers: ExecSync (output, exit codes, the probe
// timeout as DEADLINE_EXCEEDED with the process killed, a missing binary UNKNOWN, a removed
// container NOT_FOUND), the CRI log file (`<RFC3339Nano> stdout|stderr F|P <text>`, long and
// unterminated lines as P parts), ReopenContainerLog after rotation, and the security context,
// mounts and resources the container was created with.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type CriPods, type Pod, startCriPods, until } from '../helpers/cri-pods.ts';
import type { Msg } from '../../src/cri/server.ts';

let t: CriPods;
let pod: Pod;
let box: string;

before(async () => {
  t = await startCriPods();
  pod = await t.runPod();
  box = await t.runCtr(pod, t.ctrConfig('box', ['sleep', '3600']));
});
after(async () => {
  await t?.cleanup();
});

const exec = (id: string, cmd: string[], timeout = 10) =>
  t.cri.runtime('ExecSync', { container_id: id, cmd, timeout });
const text = (b: Buffer | Uint8Array) => Buffer.from(b).toString();
const code = (c: grpc.status, detail?: RegExp) => (err: grpc.ServiceError) => {
  assert.equal(err.code, c, `${grpc.status[err.code]}: ${err.details}`);
  if (detail) assert.match(err.details, detail);
  return true;
};

describe('ExecSync', () => {
  test('stdout, stderr and the exit code apart', async () => {
    const r = await exec(box, ['sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    assert.equal(text(r.stdout), 'to-out\n');
    assert.equal(text(r.stderr), 'to-err\n');
    assert.equal(r.exit_code, 3);
    assert.equal((await exec(box, ['true'])).exit_code, 0);
  });

  test('past its timeout: DEADLINE_EXCEEDED, and the process is killed', async () => {
    await assert.rejects(exec(box, ['sleep', '37'], 1), code(grpc.status.DEADLINE_EXCEEDED, /timed out/));
    const ps = await until('the timed-out process to go', async () => {
      const out = text((await exec(box, ['ps', '-o', 'args'])).stdout);
      return out.includes('sleep 37') ? undefined : out;
    });
    assert.match(ps, /sleep 3600/);
  });

  test('a missing binary is UNKNOWN; a removed container NOT_FOUND; an exited one refused', async () => {
    await assert.rejects(exec(box, ['/no/such/binary']), code(grpc.status.UNKNOWN, /no such file|not found/));
    const gone = await t.runCtr(pod, t.ctrConfig('gone', ['sleep', '3600']));
    await t.cri.runtime('StopContainer', { container_id: gone, timeout: 0 });
    await assert.rejects(exec(gone, ['true']), code(grpc.status.FAILED_PRECONDITION, /not running/));
    await t.cri.runtime('RemoveContainer', { container_id: gone });
    await assert.rejects(exec(gone, ['true']), code(grpc.status.NOT_FOUND));
  });
});

interface LogLine {
  readonly time: string;
  readonly stream: string;
  readonly tag: string;
  readonly text: string;
}

function parseLog(content: string): LogLine[] {
  const lines = content.split('\n');
  assert.equal(lines.pop(), '', 'every record ends with a newline');
  return lines.map((l) => {
    const m = /^(\S+) (stdout|stderr) (F|P) (.*)$/s.exec(l);
    assert.ok(m, `not a CRI log line: ${JSON.stringify(l.slice(0, 80))}`);
    return { time: m[1]!, stream: m[2]!, tag: m[3]!, text: m[4]! };
  });
}

/** The lines of one stream as the kubelet rebuilds them (P parts joined up to their F). */
function rebuild(records: readonly LogLine[], stream: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const r of records.filter((x) => x.stream === stream)) {
    cur += r.text;
    if (r.tag === 'F') {
      out.push(cur);
      cur = '';
    }
  }
  if (cur) out.push(cur);
  return out;
}

describe('container logs', () => {
  test('the CRI log format at log_directory/log_path: F lines, P parts of long and unterminated lines', async () => {
    const id = await t.runCtr(
      pod,
      t.ctrConfig('talker', ['sh', '-c'], {
        args: [
          'echo out-line; echo err-line >&2; head -c 20000 /dev/zero | tr "\\0" a; echo; printf tail-no-newline',
        ],
      }),
    );
    await until('the exit', async () =>
      (await t.status(id)).state === 'CONTAINER_EXITED' ? true : undefined,
    );
    const file = path.join(pod.config.log_directory, 'talker/0.log');
    assert.equal((await t.status(id)).log_path, file);
    const records = parseLog(await fsp.readFile(file, 'utf8'));
    for (const r of records) {
      assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}(Z|[+-]\d\d:\d\d)$/, r.time);
      assert.ok(!Number.isNaN(Date.parse(r.time)), r.time);
    }
    assert.deepEqual(rebuild(records, 'stdout'), ['out-line', 'a'.repeat(20000), 'tail-no-newline']);
    assert.deepEqual(rebuild(records, 'stderr'), ['err-line']);
    const long = records.filter((r) => r.stream === 'stdout' && r.text.startsWith('aaa'));
    assert.ok(
      long.length > 1 && long.slice(0, -1).every((r) => r.tag === 'P'),
      'the long line is split in P parts',
    );
    assert.equal(records.find((r) => r.text === 'tail-no-newline')?.tag, 'P');
    await t.cri.runtime('RemoveContainer', { container_id: id });
    // The log stays for the kubelet to rotate and remove.
    await fsp.access(file);
  });

  test('ReopenContainerLog: after the kubelet renamed the file, output goes to a new one', async () => {
    const id = await t.runCtr(
      pod,
      t.ctrConfig('ticker', ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done']),
    );
    const file = path.join(pod.config.log_directory, 'ticker/0.log');
    await until('a first tick', async () =>
      (await fsp.readFile(file, 'utf8')).includes('tick') ? true : undefined,
    );
    await fsp.rename(file, `${file}.1`);
    await t.cri.runtime('ReopenContainerLog', { container_id: id });
    const fresh = await until('ticks in the new file', async () => {
      const c = await fsp.readFile(file, 'utf8');
      return c.includes('tick') ? c : undefined;
    });
    assert.ok(
      parseLog(fresh).every((r) => /^tick \d+$/.test(r.text)),
      fresh,
    );
    const old = await fsp.readFile(`${file}.1`, 'utf8');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await fsp.readFile(`${file}.1`, 'utf8'), old, 'the rotated file is no longer written');
    await t.cri.runtime('StopContainer', { container_id: id, timeout: 0 });
    await assert.rejects(
      t.cri.runtime('ReopenContainerLog', { container_id: id }),
      code(grpc.status.FAILED_PRECONDITION, /not running/),
    );
  });
});

describe('security context, mounts and resources', () => {
  let id: string;
  let hostRo: string;
  let hostRw: string;

  test('run_as_user/group, supplemental groups, read-only rootfs, capabilities, no_new_privs', async () => {
    hostRo = path.join(t.tmp, 'ro');
    hostRw = path.join(t.tmp, 'rw', 'made-by-create');
    await fsp.mkdir(hostRo, { recursive: true });
    await fsp.writeFile(path.join(hostRo, 'note'), 'from the host\n');
    const profile = path.join(t.tmp, 'no-mkdir.json');
    await fsp.writeFile(
      profile,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
      }),
    );
    const config: Msg = t.ctrConfig('secure', ['sleep', '3600'], {
      mounts: [
        { container_path: '/ro', host_path: hostRo, readonly: true },
        { container_path: '/rw', host_path: hostRw, propagation: 'PROPAGATION_PRIVATE' },
      ],
      linux: {
        resources: { memory_limit_in_bytes: 64 << 20, cpu_shares: 512 },
        security_context: {
          run_as_user: { value: 1234 },
          run_as_group: { value: 5678 },
          supplemental_groups: [42],
          readonly_rootfs: true,
          no_new_privs: true,
          capabilities: { drop_capabilities: ['ALL'], add_capabilities: ['NET_BIND_SERVICE'] },
          seccomp: { profile_type: 'Localhost', localhost_ref: profile },
        },
      },
    });
    id = await t.runCtr(pod, config);
    const ids = /^uid=1234 gid=5678 groups=([\d,]+)\n$/.exec(text((await exec(id, ['id'])).stdout));
    assert.deepEqual(ids?.[1]?.split(',').sort(), ['42', '5678']);
    const status = text((await exec(id, ['cat', '/proc/self/status'])).stdout);
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    // CAP_NET_BIND_SERVICE is bit 10, alone in the bounding set.
    assert.match(status, /^CapBnd:\s+0+400$/m);
    const touch = await exec(id, ['touch', '/x']);
    assert.notEqual(touch.exit_code, 0);
    assert.match(text(touch.stderr), /Read-only file system/);
  });

  test('mounts: read-only and read-write binds, a missing host path made; seccomp Localhost profile', async () => {
    assert.equal(text((await exec(id, ['cat', '/ro/note'])).stdout), 'from the host\n');
    // CreateContainer made the missing host path (root's); open it to the container's user.
    assert.ok((await fsp.stat(hostRw)).isDirectory(), 'the host path was made');
    await fsp.chmod(hostRw, 0o777);
    assert.notEqual((await exec(id, ['sh', '-c', 'echo x > /ro/new'])).exit_code, 0);
    assert.equal((await exec(id, ['sh', '-c', 'echo written > /rw/file'])).exit_code, 0);
    assert.equal(await fsp.readFile(path.join(hostRw, 'file'), 'utf8'), 'written\n');
    const mk = await exec(id, ['mkdir', '/rw/dir']);
    assert.notEqual(mk.exit_code, 0, 'mkdir is denied by the Localhost profile');
    const mounts = (await t.status(id)).mounts.map((m: Msg) => [m.container_path, m.host_path, m.readonly]);
    assert.deepEqual(mounts, [
      ['/ro', hostRo, true],
      ['/rw', hostRw, false],
    ]);
  });

  test('resources: the cgroup limits, and the status reports them', async () => {
    const cg = `${pod.config.linux.cgroup_parent}/${id}`;
    assert.equal(
      Number(await fsp.readFile(`/sys/fs/cgroup/memory${cg}/memory.limit_in_bytes`, 'utf8')),
      64 << 20,
    );
    assert.equal(Number(await fsp.readFile(`/sys/fs/cgroup/cpu${cg}/cpu.shares`, 'utf8')), 512);
    const res = (await t.status(id)).resources.linux;
    assert.equal(Number(res.memory_limit_in_bytes), 64 << 20);
    assert.equal(Number(res.cpu_shares), 512);
  });
});

describe('stats and live resources', () => {
  let id: string;

  test('ContainerStats: CPU time, memory working set, writable layer bytes', async () => {
    id = await t.runCtr(
      pod,
      t.ctrConfig('writer', ['sh', '-c', 'head -c 5000000 /dev/urandom > /big; exec sleep 3600']),
    );
    await until('the file to be written', async () =>
      text((await exec(id, ['ls', '-l', '/big'])).stdout).includes('5000000') ? true : undefined,
    );
    const { stats } = await t.cri.runtime('ContainerStats', { container_id: id });
    assert.equal(stats.attributes.id, id);
    assert.deepEqual(stats.attributes.metadata, { name: 'writer', attempt: 0 });
    assert.ok(Number(stats.cpu.usage_core_nano_seconds.value) > 0, JSON.stringify(stats.cpu));
    assert.ok(Number(stats.memory.working_set_bytes.value) > 0, JSON.stringify(stats.memory));
    assert.ok(
      Number(stats.writable_layer.used_bytes.value) >= 5_000_000,
      JSON.stringify(stats.writable_layer),
    );
    assert.ok(Number(stats.writable_layer.inodes_used.value) >= 2, JSON.stringify(stats.writable_layer));
  });

  test('ListContainerStats filters; PodSandboxStats sums the pod with its containers', async () => {
    const list = (await t.cri.runtime('ListContainerStats', { filter: { pod_sandbox_id: pod.id } })).stats;
    const ids = list.map((s: Msg) => s.attributes.id);
    assert.ok(ids.includes(id) && ids.includes(box), ids.join());
    const one = (
      await t.cri.runtime('ListContainerStats', { filter: { label_selector: { name: 'writer' } } })
    ).stats;
    assert.deepEqual(
      one.map((s: Msg) => s.attributes.id),
      [id],
    );
    const { stats } = await t.cri.runtime('PodSandboxStats', { pod_sandbox_id: pod.id });
    assert.equal(stats.attributes.id, pod.id);
    assert.ok(
      stats.linux.containers.some((c: Msg) => c.attributes.id === id),
      'the pod stats list the container',
    );
    const mine = list.find((s: Msg) => s.attributes.id === id);
    assert.ok(
      Number(stats.linux.cpu.usage_core_nano_seconds.value) >= Number(mine.cpu.usage_core_nano_seconds.value),
      `pod ${JSON.stringify(stats.linux.cpu)} container ${JSON.stringify(mine.cpu)}`,
    );
    assert.ok(Number(stats.linux.process.process_count.value) >= 3, JSON.stringify(stats.linux.process));
    // The pod's netns interfaces but loopback (only loopback until CNI gives it eth0).
    assert.deepEqual(
      stats.linux.network.interfaces.map((i: Msg) => i.name),
      stats.linux.network.default_interface ? ['eth0'] : [],
    );
    const all = (await t.cri.runtime('ListPodSandboxStats', {})).stats;
    assert.ok(
      all.some((s: Msg) => s.attributes.id === pod.id),
      'ListPodSandboxStats lists the pod',
    );
  });

  test('UpdateContainerResources: new limits on the live cgroup and in the status', async () => {
    await t.cri.runtime('UpdateContainerResources', {
      container_id: id,
      linux: { memory_limit_in_bytes: 96 << 20, cpu_quota: 50_000, cpu_period: 100_000 },
    });
    const cg = `${pod.config.linux.cgroup_parent}/${id}`;
    assert.equal(
      Number(await fsp.readFile(`/sys/fs/cgroup/memory${cg}/memory.limit_in_bytes`, 'utf8')),
      96 << 20,
    );
    assert.equal(Number(await fsp.readFile(`/sys/fs/cgroup/cpu${cg}/cpu.cfs_quota_us`, 'utf8')), 50_000);
    const res = (await t.status(id)).resources.linux;
    assert.equal(Number(res.memory_limit_in_bytes), 96 << 20);
    assert.equal(Number(res.cpu_quota), 50_000);
    await assert.rejects(
      t.cri.runtime('UpdateContainerResources', { container_id: id, linux: { cpuset_cpus: 'x' } }),
      code(grpc.status.INVALID_ARGUMENT, /cpuset_cpus/),
    );
  });
});
