// CRI pod sandboxes through a gRPC client: RunPodSandbox starts the static pause program
// through conmon + runc, holding the pod's namespaces (a pinned netns with loopback up, its own
// UTS with the pod's hostname, IPC, PID when asked), with the DNS config in its resolv.conf and
// under the pod's cgroup parent. Status, List with filters, Stop and Remove (both idempotent),
// refusals that name the field, and a berthd crash that keeps every state honest.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type CriDaemon, startCriDaemon } from '../helpers/cri.ts';
import { run } from '../helpers/daemon.ts';
import { leftovers } from '../helpers/leaks.ts';
import type { Msg } from '../../src/cri/server.ts';

let cri: CriDaemon;
/** The test daemon's own cgroup parent (see test/helpers/daemon.ts). */
let cgParent: string;
/** Pod cgroup parents this file made below it, removed in after(). */
const podParents = new Set<string>();

before(async () => {
  cri = await startCriDaemon();
  cgParent = `/berth-test-${path.basename(cri.d.dir).replace(/^berth-test-/, '')}`;
});
after(async () => {
  await cri?.cleanup();
  for (const p of [...podParents].sort((a, b) => b.length - a.length))
    for (const h of await fsp.readdir('/sys/fs/cgroup').catch(() => [] as string[]))
      await fsp.rmdir(path.join('/sys/fs/cgroup', h, p)).catch(() => {});
});

let seq = 0;
function podConfig(over: Msg = {}): Msg {
  seq++;
  return {
    metadata: { name: `pod-${seq}`, uid: `uid-${process.pid}-${seq}`, namespace: 'default', attempt: 0 },
    hostname: `pod-${seq}`,
    labels: { app: 'web', n: String(seq) },
    annotations: { 'example.com/note': `pod ${seq}` },
    linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    ...over,
  };
}

async function runPod(config: Msg): Promise<string> {
  const { pod_sandbox_id } = await cri.runtime('RunPodSandbox', { config });
  assert.match(pod_sandbox_id, /^[a-f0-9]{64}$/);
  return pod_sandbox_id;
}

async function infoOf(id: string): Promise<{ pid: number; netNamespacePath: string; cgroupsPath: string }> {
  const st = await cri.runtime('PodSandboxStatus', { pod_sandbox_id: id, verbose: true });
  return JSON.parse(st.info.info);
}

const nsLink = (pid: number | 'self', ns: string) => fsp.readlink(`/proc/${pid}/ns/${ns}`);
const alive = (pid: number) =>
  fsp.readFile(`/proc/${pid}/stat`, 'utf8').then(
    (s) => !/\) Z /.test(s),
    () => false,
  );

const code = (c: grpc.status, field?: RegExp) => (err: grpc.ServiceError) => {
  assert.equal(err.code, c, `${grpc.status[err.code]}: ${err.details}`);
  if (field) assert.match(err.details, field);
  return true;
};

describe('a pod with its own namespaces', () => {
  let id: string;
  let pid: number;
  let config: Msg;
  let before0: bigint;

  test('RunPodSandbox: the pause program holds netns (loopback up), UTS, IPC', async () => {
    config = podConfig({
      dns_config: {
        servers: ['10.96.0.10', '10.96.0.11'],
        searches: ['default.svc.cluster.local', 'svc.cluster.local'],
        options: ['ndots:5'],
      },
      linux: {
        cgroup_parent: `${cgParent}/kubepods/pod-a`,
        security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } },
      },
    });
    podParents.add(`${cgParent}/kubepods/pod-a`).add(`${cgParent}/kubepods`);
    before0 = BigInt(Date.now()) * 1_000_000n;
    id = await runPod(config);
    const info = await infoOf(id);
    pid = info.pid;
    assert.ok(pid > 0);
    assert.equal((await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0], '/pause');
    // The pinned netns is the pause process's, and it has loopback only, up.
    const netns = info.netNamespacePath;
    assert.equal(netns, path.join(cri.d.dir, 'exec', 'cri-netns', id));
    const pinned = await fsp.stat(netns);
    assert.equal(await nsLink(pid, 'net'), `net:[${pinned.ino}]`);
    const links = (await run('nsenter', [`--net=${netns}`, 'ip', '-o', 'link'])).stdout.trim().split('\n');
    assert.equal(links.length, 1, links.join('\n'));
    assert.match(links[0]!, /: lo: <LOOPBACK,UP,LOWER_UP>/);
    for (const ns of ['net', 'uts', 'ipc'])
      assert.notEqual(await nsLink(pid, ns), await nsLink('self', ns), `${ns} is the pod's own`);
    const hostname = await run('nsenter', ['-t', String(pid), '-u', 'hostname']);
    assert.equal(hostname.stdout.trim(), config.hostname);
  });

  test('the pod files: resolv.conf from the DNS config, hostname; user, oom score, cgroup', async () => {
    const root = `/proc/${pid}/root`;
    assert.equal(
      await fsp.readFile(`${root}/etc/resolv.conf`, 'utf8'),
      'search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver 10.96.0.11\noptions ndots:5\n',
    );
    assert.equal(await fsp.readFile(`${root}/etc/hostname`, 'utf8'), `${config.hostname}\n`);
    const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65535\s+65535\s+65535\s+65535$/m);
    assert.match(status, /^CapEff:\s+0+$/m);
    // The floor is berthd's own score (containerd's -998, clamped: no CAP_SYS_RESOURCE here).
    const own = Number((await fsp.readFile(`/proc/${cri.d.pid}/oom_score_adj`, 'utf8')).trim());
    assert.equal(
      Number((await fsp.readFile(`/proc/${pid}/oom_score_adj`, 'utf8')).trim()),
      Math.max(-998, own),
    );
    const cgroups = await fsp.readFile(`/proc/${pid}/cgroup`, 'utf8');
    assert.ok(cgroups.includes(`${cgParent}/kubepods/pod-a/${id}`), cgroups);
  });

  test('PodSandboxStatus: ready, created_at, metadata, labels, annotations, namespace options', async () => {
    const { status } = await cri.runtime('PodSandboxStatus', { pod_sandbox_id: id });
    assert.equal(status.id, id);
    assert.equal(status.state, 'SANDBOX_READY');
    const created = BigInt(Math.round(status.created_at));
    assert.ok(created >= before0 - 1_000_000n && created <= BigInt(Date.now()) * 1_000_000n, String(created));
    assert.deepEqual(status.metadata, config.metadata);
    assert.deepEqual(status.labels, config.labels);
    assert.deepEqual(status.annotations, config.annotations);
    assert.deepEqual(status.network, { ip: '', additional_ips: [] });
    assert.deepEqual(status.linux.namespaces.options, {
      network: 'POD',
      pid: 'CONTAINER',
      ipc: 'POD',
      target_id: '',
      userns_options: null,
    });
    // An ID prefix finds it too (crictl passes those).
    assert.equal((await cri.runtime('PodSandboxStatus', { pod_sandbox_id: id.slice(0, 12) })).status.id, id);
  });

  test('ListPodSandbox: by id (prefix), state and label selector', async () => {
    const ids = async (filter?: Msg) =>
      ((await cri.runtime('ListPodSandbox', filter ? { filter } : {})).items as Msg[]).map((i) => i.id);
    assert.ok((await ids()).includes(id));
    assert.deepEqual(await ids({ id: id.slice(0, 10) }), [id]);
    assert.ok((await ids({ state: { state: 'SANDBOX_READY' } })).includes(id));
    assert.ok(!(await ids({ state: { state: 'SANDBOX_NOTREADY' } })).includes(id));
    assert.deepEqual(await ids({ label_selector: { app: 'web', n: config.labels.n } }), [id]);
    assert.deepEqual(await ids({ label_selector: { app: 'db' } }), []);
    const item = (await cri.runtime('ListPodSandbox', { filter: { id } })).items[0];
    assert.deepEqual(item.metadata, config.metadata);
    assert.equal(item.state, 'SANDBOX_READY');
  });

  test('CRI sandboxes are not Docker containers', async () => {
    const r = await cri.d.docker(['ps', '-a', '--no-trunc', '-q']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(id));
  });

  test('StopPodSandbox: the infra process and the netns go; not ready; a second stop succeeds', async () => {
    const netns = (await infoOf(id)).netNamespacePath;
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: id });
    assert.equal(await alive(pid), false);
    await assert.rejects(fsp.access(netns));
    const { status } = await cri.runtime('PodSandboxStatus', { pod_sandbox_id: id });
    assert.equal(status.state, 'SANDBOX_NOTREADY');
    assert.equal(status.network.ip, '');
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: id });
    const items = (await cri.runtime('ListPodSandbox', { filter: { state: { state: 'SANDBOX_NOTREADY' } } }))
      .items;
    assert.ok(items.some((i: Msg) => i.id === id));
  });

  test('RemovePodSandbox: gone (Status and Stop NOT_FOUND), nothing left on the host; twice is fine', async () => {
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
    await assert.rejects(
      cri.runtime('PodSandboxStatus', { pod_sandbox_id: id }),
      code(grpc.status.NOT_FOUND),
    );
    await assert.rejects(cri.runtime('StopPodSandbox', { pod_sandbox_id: id }), code(grpc.status.NOT_FOUND));
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
    assert.deepEqual(await leftovers(cri.d, [id]), []);
    await assert.rejects(fsp.access(path.join(cri.d.dataRoot, 'cri', 'sandboxes', id)));
    const cg = await fsp
      .readdir(`/sys/fs/cgroup/memory${cgParent}/kubepods/pod-a`)
      .catch(() => [] as string[]);
    assert.ok(!cg.includes(id));
  });
});

test('Remove of a ready sandbox stops it first', async () => {
  const id = await runPod(podConfig());
  const { pid, netNamespacePath } = await infoOf(id);
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
  assert.equal(await alive(pid), false);
  await assert.rejects(fsp.access(netNamespacePath));
  assert.deepEqual(await leftovers(cri.d, [id]), []);
});

test("host network and IPC: the host's namespaces and hostname; no netns is made", async () => {
  const id = await runPod(
    podConfig({
      linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'NODE' } } },
    }),
  );
  try {
    const info = await infoOf(id);
    for (const ns of ['net', 'uts', 'ipc'])
      assert.equal(await nsLink(info.pid, ns), await nsLink('self', ns), `${ns} is the host's`);
    assert.equal(info.netNamespacePath, '');
    const { status } = await cri.runtime('PodSandboxStatus', { pod_sandbox_id: id });
    assert.equal(status.linux.namespaces.options.network, 'NODE');
    assert.equal(status.linux.namespaces.options.ipc, 'NODE');
    const hostname = await run('nsenter', ['-t', String(info.pid), '-u', 'hostname']);
    assert.equal(hostname.stdout.trim(), os.hostname());
  } finally {
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
  }
});

test('a shared-PID pod: pause is PID 1 of its namespace and reaps the orphans it inherits', async () => {
  const id = await runPod(
    podConfig({
      linux: { security_context: { namespace_options: { network: 'POD', pid: 'POD', ipc: 'POD' } } },
    }),
  );
  try {
    const { pid } = await infoOf(id);
    assert.notEqual(await nsLink(pid, 'pid'), await nsLink('self', 'pid'));
    assert.match(await fsp.readFile(`/proc/${pid}/status`, 'utf8'), /^NSpid:\s+\d+\s+1$/m);
    // sh exits at once; its background sleep becomes pause's child, and must not stay a zombie.
    const r = await run('nsenter', ['-t', String(pid), '-p', 'sh', '-c', 'sleep 0.3 & echo $!']);
    assert.equal(r.code, 0, r.stderr);
    const children = async () => {
      const out: string[] = [];
      for (const p of await fsp.readdir('/proc')) {
        if (!/^\d+$/.test(p)) continue;
        const stat = await fsp.readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
        const m = /\) (\S) (\d+) /.exec(stat);
        if (m && Number(m[2]) === pid) out.push(`${p} ${m[1]}`);
      }
      return out;
    };
    const deadline = Date.now() + 5000;
    let seen = await children();
    while (seen.length > 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      seen = await children();
    }
    assert.deepEqual(seen, [], 'every child of pause was reaped');
  } finally {
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
  }
});

test('a duplicate pod name is ALREADY_EXISTS; after removal the name is free again', async () => {
  const config = podConfig();
  const id = await runPod(config);
  await assert.rejects(
    cri.runtime('RunPodSandbox', { config }),
    code(grpc.status.ALREADY_EXISTS, /already used by sandbox/),
  );
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
  const again = await runPod(config);
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: again });
});

test('bad requests are INVALID_ARGUMENT naming the field, and make nothing', async () => {
  const dir = path.join(cri.d.dataRoot, 'cri', 'sandboxes');
  const before1 = (await fsp.readdir(dir)).sort();
  const nsOpts = (o: Msg) => podConfig({ linux: { security_context: { namespace_options: o } } });
  const cases: [Msg, RegExp][] = [
    [{}, /^config: /],
    [{ config: { hostname: 'x' } }, /^config\.metadata: required/],
    [
      { config: podConfig({ metadata: { name: '', uid: 'u', namespace: 'default' } }) },
      /config\.metadata\.name: must not be empty/,
    ],
    [
      { config: podConfig({ metadata: { name: 'n', uid: 'u', namespace: '' } }) },
      /config\.metadata\.namespace/,
    ],
    [
      { config: nsOpts({ network: 'CONTAINER' }) },
      /namespace_options\.network: CONTAINER is not valid for a pod sandbox: use POD or NODE/,
    ],
    [{ config: nsOpts({ pid: 'TARGET' }) }, /namespace_options\.pid: TARGET is not valid/],
    [{ config: nsOpts({ ipc: 'CONTAINER' }) }, /namespace_options\.ipc/],
    [
      { config: podConfig({ dns_config: { servers: ['8.8.8.8', 'not-an-ip'] } }) },
      /config\.dns_config\.servers\[1\]: "not-an-ip" is not an IP address/,
    ],
    [{ config: podConfig({ hostname: 'bad_host!' }) }, /config\.hostname/],
    [{ config: podConfig({ linux: { cgroup_parent: 'relative/path' } }) }, /config\.linux\.cgroup_parent/],
    [{ config: podConfig(), runtime_handler: 'nope' }, /unknown or invalid runtime name: nope/],
  ];
  for (const [req, field] of cases)
    await assert.rejects(cri.runtime('RunPodSandbox', req), code(grpc.status.INVALID_ARGUMENT, field));
  assert.deepEqual((await fsp.readdir(dir)).sort(), before1);
  await assert.rejects(
    cri.runtime('PodSandboxStatus', { pod_sandbox_id: '' }),
    code(grpc.status.INVALID_ARGUMENT, /pod_sandbox_id/),
  );
  await assert.rejects(
    cri.runtime('PodSandboxStatus', { pod_sandbox_id: 'f'.repeat(64) }),
    code(grpc.status.NOT_FOUND),
  );
});

test('kill -9 of berthd: pods keep running; after restart every state is what really runs', async () => {
  const kept = await runPod(podConfig());
  const killed = await runPod(podConfig());
  const stopped = await runPod(podConfig());
  await cri.runtime('StopPodSandbox', { pod_sandbox_id: stopped });
  const keptPid = (await infoOf(kept)).pid;
  const killedPid = (await infoOf(killed)).pid;
  await cri.d.kill9();
  assert.equal(await alive(keptPid), true, 'a pod outlives berthd');
  process.kill(killedPid, 'SIGKILL'); // the pod's infra process dies while berthd is down
  const deadline = Date.now() + 5000;
  while ((await alive(killedPid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await cri.restart();
  const state = async (id: string) =>
    (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: id })).status.state;
  assert.equal(await state(kept), 'SANDBOX_READY');
  assert.equal((await infoOf(kept)).pid, keptPid);
  assert.equal(await state(killed), 'SANDBOX_NOTREADY');
  assert.equal(await state(stopped), 'SANDBOX_NOTREADY');
  for (const id of [kept, killed, stopped]) await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
  assert.equal(await alive(keptPid), false);
  assert.deepEqual(await leftovers(cri.d, [kept, killed, stopped]), []);
});

test('a run cut short by a crash (directory, netns, no record) is undone at the next start', async () => {
  // What RunPodSandbox makes before its commit point, by hand: the directory and a pinned netns.
  const id = 'e'.repeat(64);
  const netns = path.join(cri.d.dir, 'exec', 'cri-netns', id);
  await fsp.mkdir(path.join(cri.d.dataRoot, 'cri', 'sandboxes', id, 'bundle'), { recursive: true });
  await fsp.mkdir(path.dirname(netns), { recursive: true });
  await fsp.writeFile(netns, '');
  assert.equal((await run('unshare', [`--net=${netns}`, 'true'])).code, 0);
  await cri.d.stop();
  await cri.restart();
  await assert.rejects(fsp.access(path.join(cri.d.dataRoot, 'cri', 'sandboxes', id)));
  assert.deepEqual(await leftovers(cri.d, [id]), []);
  assert.ok(!(await fsp.readFile('/proc/self/mountinfo', 'utf8')).includes(netns));
});
