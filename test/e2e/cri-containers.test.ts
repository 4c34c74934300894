// CRI containers through a gRPC client, driven as the kubelet drives them: CreateContainer with
// the image ID PullImage returned (busybox from a loopback berth-registry), in pod sandboxes;
// two containers of a pod share its network (localhost between them), a shared-PID pod sees
// the other container's processes and a container's end takes its processes with it; Status,
// List with filters, duplicate names, Stop (SIGTERM then SIGKILL: 137) and Remove leaving no
// mount, cgroup or process, and kill -9 of berthd with containers running.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { CriDaemon } from '../helpers/cri.ts';
import { type CriPods, startCriPods, until } from '../helpers/cri-pods.ts';
import { leftovers } from '../helpers/leaks.ts';
import type { Msg } from '../../src/cri/server.ts';

let t: CriPods;
let cri: CriDaemon;
let runPod: CriPods['runPod'];
let ctrConfig: CriPods['ctrConfig'];
let runCtr: CriPods['runCtr'];
let statusOf: CriPods['status'];
let pidOf: CriPods['pidOf'];

before(async () => {
  t = await startCriPods();
  ({ cri, runPod, ctrConfig, runCtr, pidOf } = t);
  statusOf = t.status;
});
after(async () => {
  await t?.cleanup();
});

const nsLink = (pid: number, ns: string) => fsp.readlink(`/proc/${pid}/ns/${ns}`);
const alive = (pid: number) =>
  fsp.readFile(`/proc/${pid}/stat`, 'utf8').then(
    (s) => !/\) Z /.test(s),
    () => false,
  );
const exec = (id: string, cmd: string[], timeout = 10) =>
  cri.runtime('ExecSync', { container_id: id, cmd, timeout });

const code = (c: grpc.status, detail?: RegExp) => (err: grpc.ServiceError) => {
  assert.equal(err.code, c, `${grpc.status[err.code]}: ${err.details}`);
  if (detail) assert.match(err.details, detail);
  return true;
};

describe('a pod with two containers sharing its network', () => {
  let pod: { id: string; config: Msg };
  let server: string;
  let client: string;

  test('CreateContainer + StartContainer: localhost between the two containers', async () => {
    pod = await runPod();
    server = await runCtr(
      pod,
      ctrConfig('server', ['sh', '-c'], {
        args: [
          'mkdir -p /www && echo "hello from $HOSTNAME" > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www',
        ],
      }),
    );
    client = await runCtr(
      pod,
      ctrConfig('client', ['sleep', '3600'], { envs: [{ key: 'MINE', value: 'set' }] }),
    );
    const page = await until('the server to answer', async () => {
      const r = await exec(client, ['wget', '-qO-', 'http://127.0.0.1:8080/']);
      return r.exit_code === 0 ? Buffer.from(r.stdout).toString() : undefined;
    });
    assert.equal(page, `hello from ${pod.config.hostname}\n`);
  });

  test("both join the pod's network, IPC and UTS namespaces, with their own mount and PID; cgroup below the pod's parent", async () => {
    const infra = JSON.parse(
      (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: pod.id, verbose: true })).info.info,
    ).pid as number;
    const [a, b] = [await pidOf(server), await pidOf(client)];
    for (const ns of ['net', 'ipc', 'uts']) {
      assert.equal(await nsLink(a, ns), await nsLink(infra, ns), ns);
      assert.equal(await nsLink(b, ns), await nsLink(infra, ns), ns);
    }
    for (const ns of ['mnt', 'pid']) assert.notEqual(await nsLink(a, ns), await nsLink(b, ns), ns);
    const cg = await fsp.readFile(`/proc/${b}/cgroup`, 'utf8');
    assert.ok(cg.includes(`${pod.config.linux.cgroup_parent}/${client}`), cg);
    // The image's env and working dir, merged with the request's; the pod's files.
    const env = Buffer.from((await exec(client, ['env'])).stdout).toString();
    assert.match(env, /^FROM_IMAGE=yes$/m);
    assert.match(env, /^MINE=set$/m);
    assert.match(env, new RegExp(`^HOSTNAME=${pod.config.hostname}$`, 'm'));
    assert.equal(Buffer.from((await exec(client, ['pwd'])).stdout).toString(), '/home\n');
    assert.equal(
      Buffer.from((await exec(client, ['cat', '/etc/hostname'])).stdout).toString(),
      `${pod.config.hostname}\n`,
    );
  });

  test("the pod's /dev/shm is shared by its containers", async () => {
    assert.equal((await exec(client, ['sh', '-c', 'echo between-us > /dev/shm/note'])).exit_code, 0);
    assert.equal(
      Buffer.from((await exec(server, ['cat', '/dev/shm/note'])).stdout).toString(),
      'between-us\n',
    );
  });

  test('ContainerStatus: running, times, image by tag and repo digest, labels, log path, verbose pid', async () => {
    const st = await statusOf(client);
    assert.equal(st.id, client);
    assert.equal(st.state, 'CONTAINER_RUNNING');
    assert.deepEqual(st.metadata, { name: 'client', attempt: 0 });
    assert.ok(
      BigInt(Math.round(st.started_at)) >= BigInt(Math.round(st.created_at)) - 1_000_000n,
      `${st.started_at} ${st.created_at}`,
    );
    assert.equal(Number(st.finished_at), 0);
    assert.equal(st.image.image, t.imageName);
    assert.match(st.image_ref, new RegExp(`^${t.registry.host}/cri/busybox@sha256:[a-f0-9]{64}$`));
    assert.equal(st.image_id, t.imageId);
    assert.deepEqual(st.labels, { app: 'demo', name: 'client' });
    assert.deepEqual(st.annotations, { 'example.com/who': 'client' });
    assert.equal(st.log_path, path.join(pod.config.log_directory, 'client/0.log'));
    assert.ok((await pidOf(client)) > 0, 'a pid in the verbose info');
    // A prefix finds it too.
    assert.equal((await statusOf(client.slice(0, 12))).id, client);
  });

  test('ListContainers: filters by id prefix, state, pod and labels', async () => {
    const ids = async (filter: Msg) =>
      (await cri.runtime('ListContainers', { filter })).containers.map((c: Msg) => c.id).sort();
    assert.deepEqual(await ids({ pod_sandbox_id: pod.id }), [server, client].sort());
    assert.deepEqual(await ids({ id: client.slice(0, 10) }), [client]);
    assert.deepEqual(await ids({ pod_sandbox_id: pod.id, label_selector: { name: 'server' } }), [server]);
    assert.deepEqual(await ids({ pod_sandbox_id: pod.id, state: { state: 'CONTAINER_EXITED' } }), []);
    const item = (await cri.runtime('ListContainers', { filter: { id: client } })).containers[0];
    assert.equal(item.pod_sandbox_id, pod.id);
    assert.equal(item.image_ref, t.imageId);
    assert.equal(item.state, 'CONTAINER_RUNNING');
  });

  test('a duplicate container name in the pod is ALREADY_EXISTS', async () => {
    await assert.rejects(
      cri.runtime('CreateContainer', {
        pod_sandbox_id: pod.id,
        config: ctrConfig('client', ['true']),
        sandbox_config: pod.config,
      }),
      code(grpc.status.ALREADY_EXISTS, /already used by container/),
    );
  });

  test('StopContainer: SIGTERM ignored, SIGKILL after the timeout (137); stop again succeeds', async () => {
    const stubborn = await runCtr(
      pod,
      ctrConfig('stubborn', ['sh', '-c', 'trap "" TERM; echo trap-set; while true; do sleep 1; done']),
    );
    const pid = await pidOf(stubborn);
    // SIGTERM only once the trap ignores it (a loaded machine may run the stop first).
    const log = path.join(pod.config.log_directory, 'stubborn/0.log');
    await until('the trap', async () =>
      (await fsp.readFile(log, 'utf8')).includes('trap-set') ? true : undefined,
    );
    await cri.runtime('StopContainer', { container_id: stubborn, timeout: 1 });
    const st = await statusOf(stubborn);
    assert.equal(st.state, 'CONTAINER_EXITED');
    assert.equal(st.exit_code, 137);
    assert.equal(st.reason, 'Error');
    assert.ok(
      BigInt(Math.round(st.finished_at)) > BigInt(Math.round(st.started_at)),
      `${st.finished_at} ${st.started_at}`,
    );
    assert.equal(await alive(pid), false);
    await cri.runtime('StopContainer', { container_id: stubborn, timeout: 1 });
    await cri.runtime('RemoveContainer', { container_id: stubborn });
  });

  test('a container that ends on its own: Completed, exit 0', async () => {
    const quick = await runCtr(pod, ctrConfig('quick', ['true']));
    const st = await until('the exit', async () => {
      const s = await statusOf(quick);
      return s.state === 'CONTAINER_EXITED' ? s : undefined;
    });
    assert.equal(st.exit_code, 0);
    assert.equal(st.reason, 'Completed');
    const failing = await runCtr(pod, ctrConfig('failing', ['sh', '-c', 'exit 3']));
    const f = await until('the exit', async () => {
      const s = await statusOf(failing);
      return s.state === 'CONTAINER_EXITED' ? s : undefined;
    });
    assert.equal(f.exit_code, 3);
    assert.equal(f.reason, 'Error');
    // Start of an exited container is refused.
    await assert.rejects(
      cri.runtime('StartContainer', { container_id: quick }),
      code(grpc.status.FAILED_PRECONDITION),
    );
  });

  test('RemoveContainer of a running container: gone, no mount, cgroup or process left; twice is fine', async () => {
    const pid = await pidOf(server);
    await cri.runtime('RemoveContainer', { container_id: server });
    assert.equal(await alive(pid), false);
    await assert.rejects(
      cri.runtime('ContainerStatus', { container_id: server }),
      code(grpc.status.NOT_FOUND),
    );
    await cri.runtime('RemoveContainer', { container_id: server });
    await cri.runtime('StopContainer', { container_id: server, timeout: 0 });
    assert.deepEqual(await leftovers(cri.d, [server]), []);
    const mounts = await fsp.readFile('/proc/mounts', 'utf8');
    assert.ok(!mounts.includes(server), 'no mount of the removed container');
    for (const h of ['memory', 'pids', 'cpu'])
      await assert.rejects(
        fsp.access(path.join('/sys/fs/cgroup', h, pod.config.linux.cgroup_parent, server)),
      );
    await assert.rejects(fsp.access(path.join(cri.d.dataRoot, 'cri', 'containers', server)));
  });

  test('StopPodSandbox ends its containers; RemovePodSandbox removes them', async () => {
    const pid = await pidOf(client);
    const all = (await cri.runtime('ListContainers', { filter: { pod_sandbox_id: pod.id } })).containers.map(
      (c: Msg) => c.id,
    );
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id });
    assert.equal(await alive(pid), false);
    assert.equal((await statusOf(client)).state, 'CONTAINER_EXITED');
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
    assert.deepEqual(
      (await cri.runtime('ListContainers', { filter: { pod_sandbox_id: pod.id } })).containers,
      [],
    );
    assert.deepEqual(await leftovers(cri.d, [...all, pod.id]), []);
  });
});

test("a shared-PID pod: ps sees the other container's processes; a container's end takes its processes", async () => {
  const pod = await runPod('POD');
  const watcher = await runCtr(pod, ctrConfig('watcher', ['sleep', '3600']));
  const worker = await runCtr(pod, ctrConfig('worker', ['sh', '-c', 'sleep 2001 & exec sleep 3001']));
  const ps = async () => Buffer.from((await exec(watcher, ['ps', '-o', 'args'])).stdout).toString();
  await until('the worker processes', async () => ((await ps()).includes('sleep 2001') ? true : undefined));
  assert.match(await ps(), /sleep 3001/);
  assert.match(await ps(), /\/pause/);
  // The worker's main process dies: its background child must go with it.
  process.kill(await pidOf(worker), 'SIGKILL');
  await until('the worker exit', async () =>
    (await statusOf(worker)).state === 'CONTAINER_EXITED' ? true : undefined,
  );
  await until('the orphaned child to be killed', async () =>
    /sleep 2001/.test(await ps()) ? undefined : true,
  );
  assert.equal((await statusOf(worker)).exit_code, 137);
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
  assert.deepEqual(await leftovers(cri.d, [watcher, worker, pod.id]), []);
});

test('kill -9 of berthd: containers keep running; after restart every state is what really runs', async () => {
  const pod = await runPod();
  const kept = await runCtr(pod, ctrConfig('kept', ['sleep', '3600']));
  const dies = await runCtr(pod, ctrConfig('dies', ['sleep', '3600']));
  const keptPid = await pidOf(kept);
  const diesPid = await pidOf(dies);
  await cri.d.kill9();
  assert.equal(await alive(keptPid), true);
  process.kill(diesPid, 'SIGKILL'); // ends while berthd is down
  await until('the process to die', async () => ((await alive(diesPid)) ? undefined : true));
  await cri.restart();
  assert.equal((await statusOf(kept)).state, 'CONTAINER_RUNNING');
  assert.equal(await pidOf(kept), keptPid);
  const st = await statusOf(dies);
  assert.equal(st.state, 'CONTAINER_EXITED');
  assert.equal(st.exit_code, 137);
  // The recovered container still runs commands and stops as any other.
  assert.equal(Buffer.from((await exec(kept, ['echo', 'still here'])).stdout).toString(), 'still here\n');
  await cri.runtime('StopContainer', { container_id: kept, timeout: 0 });
  assert.equal((await statusOf(kept)).exit_code, 137);
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
  assert.deepEqual(await leftovers(cri.d, [kept, dies, pod.id]), []);
});

test('GetContainerEvents: created, started, stopped, deleted, in order, with statuses', async () => {
  const pod = await runPod();
  const events: Msg[] = [];
  const call = (
    cri.runtimeClient as unknown as { GetContainerEvents(req: Msg): grpc.ClientReadableStream<Msg> }
  ).GetContainerEvents({});
  call.on('data', (e: Msg) => events.push(e));
  call.on('error', () => {}); // the cancel below
  await new Promise((r) => setTimeout(r, 200)); // the stream is open before the first event
  const id = await runCtr(pod, ctrConfig('evented', ['sleep', '3600']));
  await cri.runtime('StopContainer', { container_id: id, timeout: 0 });
  await cri.runtime('RemoveContainer', { container_id: id });
  const mine = await until('four events', async () => {
    const m = events.filter((e) => e.container_id === id);
    return m.length >= 4 ? m : undefined;
  });
  call.cancel();
  assert.deepEqual(
    mine.map((e) => e.container_event_type),
    [
      'CONTAINER_CREATED_EVENT',
      'CONTAINER_STARTED_EVENT',
      'CONTAINER_STOPPED_EVENT',
      'CONTAINER_DELETED_EVENT',
    ],
  );
  assert.equal(mine[1].containers_statuses[0].state, 'CONTAINER_RUNNING');
  assert.equal(mine[2].containers_statuses[0].exit_code, 137);
  assert.equal(mine[0].pod_sandbox_status.id, pod.id);
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
});

test('refusals name the field: no sandbox, no image, bad mount path', async () => {
  await assert.rejects(
    cri.runtime('CreateContainer', { pod_sandbox_id: 'f'.repeat(64), config: ctrConfig('x', ['true']) }),
    code(grpc.status.NOT_FOUND, /pod sandbox/),
  );
  const pod = await runPod();
  const create = (config: Msg) =>
    cri.runtime('CreateContainer', { pod_sandbox_id: pod.id, config, sandbox_config: pod.config });
  await assert.rejects(
    create(ctrConfig('x', ['true'], { image: { image: `sha256:${'0'.repeat(64)}` } })),
    code(grpc.status.NOT_FOUND, /pull it first/),
  );
  await assert.rejects(
    create(ctrConfig('x', ['true'], { mounts: [{ container_path: 'rel', host_path: '/tmp' }] })),
    code(grpc.status.INVALID_ARGUMENT, /config\.mounts\[0\]\.container_path/),
  );
  await assert.rejects(
    create(ctrConfig('x', ['true'], { log_path: '../../etc/x.log' })),
    code(grpc.status.INVALID_ARGUMENT, /config\.log_path/),
  );
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id });
});
