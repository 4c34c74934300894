// CRI pod networks over real CNI plugins (Debian's containernetworking-plugins: bridge,
// host-local, portmap) from a config folder in the test's temp dir, on a subnet no other test
// uses: NetworkReady, pod IPs in range, pod-to-pod traffic, a host-loopback port mapping, the
// pod's /dev/shm, teardown on stop (veth, IP allocation, portmap rules), DEL after kill -9 with
// a changed config, a crash mid-run undone at start-up, a failing plugin rolled back, and
// NetworkReady false with no or a broken config.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fsp, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type CriDaemon, startCriDaemon } from '../helpers/cri.ts';
import { run } from '../helpers/daemon.ts';
import type { Msg } from '../../src/cri/server.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-cni-'));
const confDir = path.join(tmp, 'net.d');
const binDir = path.join(tmp, 'bin');
const dataDir = path.join(tmp, 'ipam');
let cri: CriDaemon;
let netByte: number;
let bridge: string;
let netName: string;
let subnet: string;
/** CNI-HOSTPORT-* chains that existed before this file (another user's: never removed). */
let hostportChainsBefore: Set<string>;
const listeners: ChildProcess[] = [];

async function natChains(): Promise<string[]> {
  const out = (await run('iptables-save', ['-t', 'nat'])).stdout;
  return [...out.matchAll(/^:(\S+)/gm)].map((m) => m[1]!);
}

function conflist(name: string, ipamDir: string, plugins: Msg[] = []): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          dataDir: ipamDir,
          ranges: [[{ subnet }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      ...plugins,
    ],
  });
}

before(async () => {
  const routes = (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  const used = new Set([...routes.matchAll(/10\.196\.(\d+)\./g)].map((m) => Number(m[1])));
  const free = [...Array(250).keys()].map((i) => i + 2).filter((b) => !used.has(b));
  netByte = free[Math.floor(Math.random() * free.length)]!;
  bridge = `berthcni${netByte}`;
  netName = `berth-test-${netByte}`;
  subnet = `10.196.${netByte}.0/24`;
  hostportChainsBefore = new Set((await natChains()).filter((c) => c.startsWith('CNI-HOSTPORT-')));
  await fsp.mkdir(confDir);
  await fsp.mkdir(binDir);
  // A plugin that refuses every ADD with a CNI error (and accepts DEL), to prove rollback.
  await fsp.writeFile(
    path.join(binDir, 'berth-refuse'),
    '#!/bin/sh\ncat >/dev/null\nif [ "$CNI_COMMAND" = ADD ]; then\n  echo \'{"cniVersion":"1.0.0","code":7,"msg":"refused by test","details":"always"}\'\n  exit 1\nfi\n',
    { mode: 0o755 },
  );
  await fsp.writeFile(path.join(confDir, '10-test.conflist'), conflist(netName, dataDir));
  cri = await startCriDaemon({
    config: { 'cni-conf-dir': confDir, 'cni-bin-dir': `/usr/lib/cni:${binDir}` },
  });
});

after(async () => {
  for (const l of listeners) l.kill('SIGKILL');
  await cri?.cleanup();
  await run('ip', ['link', 'del', bridge]);
  // Rules of this file's network (portmap's comments name it) and the chains only it made.
  const del = (line: string) => run('iptables', ['-t', 'nat', '-D', ...ruleArgs(line)]);
  const save = (await run('iptables-save', ['-t', 'nat'])).stdout.split('\n');
  for (const line of save.filter((l) => l.startsWith('-A ') && l.includes(`"${netName}`))) await del(line);
  const now = (await run('iptables-save', ['-t', 'nat'])).stdout.split('\n');
  if (!now.some((l) => l.startsWith('-A CNI-HOSTPORT-DNAT ')))
    for (const c of (await natChains()).filter(
      (x) => x.startsWith('CNI-HOSTPORT-') && !hostportChainsBefore.has(x),
    )) {
      for (const l of now.filter(
        (x) => /^-A (PREROUTING|OUTPUT|POSTROUTING) /.test(x) && x.endsWith(`-j ${c}`),
      ))
        await del(l);
      await run('iptables', ['-t', 'nat', '-F', c]);
      await run('iptables', ['-t', 'nat', '-X', c]);
    }
  await fsp.rm(tmp, { recursive: true, force: true });
});

/** An iptables-save `-A CHAIN ...` line as iptables arguments (quoted comments kept whole). */
function ruleArgs(line: string): string[] {
  return (line.slice(3).match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"|"$/g, ''));
}

let seq = 0;
function podConfig(over: Msg = {}): Msg {
  seq++;
  return {
    metadata: { name: `net-${seq}`, uid: `uid-${process.pid}-${seq}`, namespace: 'default', attempt: 0 },
    hostname: `net-${seq}`,
    linux: {},
    ...over,
  };
}

const runPod = async (config: Msg): Promise<string> =>
  (await cri.runtime('RunPodSandbox', { config })).pod_sandbox_id;
const statusOf = async (id: string): Promise<Msg> =>
  (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: id, verbose: true })).status;
const netnsOf = (id: string) => path.join(cri.d.dir, 'exec', 'cri-netns', id);
const cacheOf = (id: string) => path.join(cri.d.dataRoot, 'cri', 'cni-cache', `${id}.json`);
const exists = (p: string) =>
  fsp.stat(p).then(
    () => true,
    () => false,
  );
const ports = () => fsp.readdir(`/sys/class/net/${bridge}/brif`).catch(() => [] as string[]);
/** host-local's allocations: files named by IP, holding the container ID. */
async function allocations(dir = dataDir): Promise<Map<string, string>> {
  const d = path.join(dir, netName);
  const out = new Map<string, string>();
  for (const f of await fsp.readdir(d).catch(() => [] as string[]))
    if (/^\d+\.\d+\.\d+\.\d+$/.test(f))
      out.set(f, (await fsp.readFile(path.join(d, f), 'utf8')).split(/\s/)[0]!);
  return out;
}
async function natMentions(id: string): Promise<string[]> {
  return (await run('iptables-save', ['-t', 'nat'])).stdout.split('\n').filter((l) => l.includes(id));
}

/** A TCP server in a netns that answers each connection with `reply`; resolves once listening. */
async function listenIn(netns: string, port: number, reply: string): Promise<void> {
  const script = `require('net').createServer((s)=>{s.end(${JSON.stringify(reply)})}).listen(${port},'0.0.0.0',()=>console.log('up'))`;
  const child = spawn('nsenter', [`--net=${netns}`, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  listeners.push(child);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('listener did not start in 10 s')), 10_000);
    child.stdout!.once('data', () => {
      clearTimeout(t);
      resolve();
    });
    child.once('exit', (c) => reject(new Error(`listener exited ${c}`)));
  });
}

/** Reads what a TCP server sends (bounded by 5 s). */
function fetchFrom(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let data = '';
    s.setTimeout(5000, () => s.destroy(new Error(`no answer from ${host}:${port} in 5 s`)));
    s.on('data', (c) => (data += c));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const networkReady = async (): Promise<Msg> =>
  (await cri.runtime('Status', {})).status.conditions.find((c: Msg) => c.type === 'NetworkReady');

const inSubnet = (ip: string) => ip.startsWith(`10.196.${netByte}.`) && ip !== `10.196.${netByte}.1`;

describe('two pods on a bridge network', () => {
  let a: string;
  let b: string;
  let ipA: string;
  let ipB: string;
  let hostPort: number;
  let anyPort: number;

  test('Status: NetworkReady with a valid config whose plugins are installed', async () => {
    const c = await networkReady();
    assert.equal(c.status, true, c.message);
  });

  test('RunPodSandbox: the pod gets an IP of the subnet on eth0, allocated by host-local', async () => {
    hostPort = await freePort();
    anyPort = await freePort();
    a = await runPod(
      podConfig({
        port_mappings: [
          { protocol: 'TCP', container_port: 8080, host_port: hostPort, host_ip: '127.0.0.1' },
          { protocol: 'TCP', container_port: 8080, host_port: anyPort },
        ],
      }),
    );
    b = await runPod(podConfig());
    ipA = (await statusOf(a)).network.ip;
    ipB = (await statusOf(b)).network.ip;
    assert.ok(inSubnet(ipA) && inSubnet(ipB), `${ipA} ${ipB}`);
    assert.notEqual(ipA, ipB);
    assert.deepEqual((await statusOf(a)).network.additional_ips, []);
    const addr = (await run('nsenter', [`--net=${netnsOf(a)}`, 'ip', '-4', '-o', 'addr', 'show', 'eth0']))
      .stdout;
    assert.ok(addr.includes(`inet ${ipA}/24`), addr);
    const alloc = await allocations();
    assert.equal(alloc.get(ipA), a);
    assert.equal(alloc.get(ipB), b);
    assert.equal((await ports()).length, 2);
  });

  test('pods reach each other by IP, and the host reaches a pod through its loopback port mapping', async () => {
    await listenIn(netnsOf(a), 8080, 'hello from A');
    const fromB = await run('nsenter', [
      `--net=${netnsOf(b)}`,
      process.execPath,
      '-e',
      `const s=require('net').connect(8080,${JSON.stringify(ipA)});s.setTimeout(5000,()=>process.exit(3));s.on('data',(d)=>process.stdout.write(d));s.on('error',()=>process.exit(2))`,
    ]);
    assert.equal(fromB.stdout, 'hello from A', fromB.stderr);
    assert.equal(await fetchFrom('127.0.0.1', hostPort), 'hello from A');
    // No host_ip: every host address, loopback included (the kubelet's usual hostPort).
    assert.equal(await fetchFrom('127.0.0.1', anyPort), 'hello from A');
    assert.ok((await natMentions(a)).length > 0, 'portmap rules for the pod');
  });

  test("the pod's /dev/shm is a 64 MiB tmpfs of its own, shared through the host path", async () => {
    const info = JSON.parse(
      (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: a, verbose: true })).info.info,
    );
    const shm = path.join(cri.d.dir, 'exec', 'cri-shm', a);
    const mi = await fsp.readFile(`/proc/${info.pid}/mountinfo`, 'utf8');
    const line = mi.split('\n').find((l) => l.split(' ')[4] === '/dev/shm');
    assert.match(line ?? '', / - tmpfs shm .*size=65536k/, line);
    await fsp.writeFile(path.join(shm, 'probe'), 'shared');
    assert.equal(await fsp.readFile(`/proc/${info.pid}/root/dev/shm/probe`, 'utf8'), 'shared');
  });

  test('StopPodSandbox: CNI DEL removes the veth, the IP allocation and the port rules; the IP is empty', async () => {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: a });
    const st = await statusOf(a);
    assert.equal(st.state, 'SANDBOX_NOTREADY');
    assert.equal(st.network.ip, '');
    assert.equal((await allocations()).has(ipA), false);
    assert.equal((await ports()).length, 1);
    assert.deepEqual(await natMentions(a), []);
    assert.equal(await exists(netnsOf(a)), false);
    assert.equal(await exists(cacheOf(a)), false);
    const mounts = await fsp.readFile('/proc/self/mountinfo', 'utf8');
    assert.equal(mounts.includes(path.join('cri-shm', a)), false, 'the pod shm is unmounted');
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: a });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: b });
    assert.equal((await allocations()).size, 0);
    assert.deepEqual(await ports(), []);
  });
});

describe('parallel pods', () => {
  test('three RunPodSandbox at once get three addresses; removing them releases all', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => runPod(podConfig())));
    const ips = await Promise.all(ids.map(async (id) => (await statusOf(id)).network.ip));
    assert.equal(new Set(ips).size, 3, ips.join(' '));
    assert.ok(ips.every(inSubnet), ips.join(' '));
    assert.equal((await ports()).length, 3);
    await Promise.all(ids.map((id) => cri.runtime('RemovePodSandbox', { pod_sandbox_id: id })));
    assert.equal((await allocations()).size, 0);
    assert.deepEqual(await ports(), []);
  });
});

describe('teardown after kill -9', () => {
  test('a pod set up before the crash is torn down with its cached config after the config changed', async () => {
    const id = await runPod(podConfig());
    const ip = (await statusOf(id)).network.ip;
    assert.ok(inSubnet(ip));
    await cri.d.kill9();
    // The folder now names another network (other IPAM folder): DEL must use what ADD used.
    const other = path.join(tmp, 'ipam-other');
    await fsp.writeFile(path.join(confDir, '10-test.conflist'), conflist(netName, other));
    await cri.restart();
    assert.equal((await statusOf(id)).network.ip, ip, 'the IP survives the restart');
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
    assert.equal((await allocations()).size, 0);
    assert.deepEqual(await ports(), []);
    assert.equal(await exists(cacheOf(id)), false);
    await fsp.writeFile(path.join(confDir, '10-test.conflist'), conflist(netName, dataDir));
  });

  test('kill -9 after ADD, before the record (a crash point): the next start undoes the run, DEL included', async () => {
    await cri.restart({ env: { BERTH_CRASH_AT: 'pod-run:after-cni-add' } });
    await assert.rejects(
      runPod(podConfig()),
      (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE,
    );
    const ids = await fsp.readdir(path.join(cri.d.dataRoot, 'cri', 'cni-cache'));
    assert.equal(ids.length, 1, 'the crash came after ADD');
    assert.equal((await allocations()).size, 1);
    await cri.restart();
    assert.equal((await allocations()).size, 0);
    assert.deepEqual(await ports(), []);
    assert.deepEqual(await fsp.readdir(path.join(cri.d.dataRoot, 'cri', 'cni-cache')), []);
    assert.equal(await exists(netnsOf(ids[0]!.replace(/\.json$/, ''))), false);
    assert.deepEqual((await cri.runtime('ListPodSandbox', {})).items, []);
  });

  test('kill -9 in StopPodSandbox before DEL: the stop after the restart finishes it', async () => {
    const id = await runPod(podConfig());
    const ip = (await statusOf(id)).network.ip;
    await cri.restart({ env: { BERTH_CRASH_AT: 'pod-stop:before-cni-del' } });
    await assert.rejects(cri.runtime('StopPodSandbox', { pod_sandbox_id: id }));
    assert.equal((await allocations()).size, 1, 'the crash came before DEL');
    await cri.restart();
    assert.equal((await statusOf(id)).state, 'SANDBOX_NOTREADY');
    // Its netns is still there (as containerd, the IP is reported until the stop removes it).
    assert.equal((await statusOf(id)).network.ip, ip);
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: id });
    assert.equal((await statusOf(id)).network.ip, '');
    assert.equal((await allocations()).size, 0);
    assert.deepEqual(await ports(), []);
    assert.equal(await exists(cacheOf(id)), false);
    assert.equal(await exists(netnsOf(id)), false);
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
  });
});

describe('refusals and a missing network', () => {
  const code = (c: grpc.status, re: RegExp) => (err: grpc.ServiceError) => {
    assert.equal(err.code, c, `${grpc.status[err.code]}: ${err.details}`);
    assert.match(err.details, re);
    return true;
  };
  const nothingLeft = async () => {
    assert.deepEqual((await cri.runtime('ListPodSandbox', {})).items, []);
    assert.equal((await allocations()).size, 0);
    assert.deepEqual(await ports(), []);
    assert.deepEqual(await fsp.readdir(path.join(cri.d.dir, 'exec', 'cri-netns')).catch(() => []), []);
    assert.deepEqual(await fsp.readdir(path.join(cri.d.dataRoot, 'cri', 'cni-cache')).catch(() => []), []);
  };

  test('a plugin that fails ADD: the error names it and its message; the chain is rolled back', async () => {
    await fsp.writeFile(
      path.join(confDir, '00-refuse.conflist'),
      conflist(netName, dataDir, [{ type: 'berth-refuse' }]),
    );
    await assert.rejects(
      runPod(podConfig()),
      code(grpc.status.UNKNOWN, /berth-refuse \(ADD\) failed: refused by test: always/),
    );
    await nothingLeft();
    await fsp.rm(path.join(confDir, '00-refuse.conflist'));
  });

  test('a broken config or a missing plugin: NetworkReady false naming it, RunPodSandbox refused', async () => {
    await fsp.writeFile(path.join(confDir, '00-bad.conf'), '{"name": "x", ');
    let c = await networkReady();
    assert.equal(c.status, false);
    assert.equal(c.reason, 'NetworkPluginNotReady');
    assert.match(c.message, /00-bad\.conf is not valid JSON/);
    await assert.rejects(runPod(podConfig()), code(grpc.status.FAILED_PRECONDITION, /00-bad\.conf/));
    await fsp.writeFile(
      path.join(confDir, '00-bad.conf'),
      JSON.stringify({ cniVersion: '1.0.0', name: 'x', type: 'no-such-plugin' }),
    );
    c = await networkReady();
    assert.equal(c.status, false);
    assert.match(c.message, /CNI plugin "no-such-plugin" not found/);
    await fsp.rm(path.join(confDir, '00-bad.conf'));
    await nothingLeft();
  });

  test('a bad port mapping is INVALID_ARGUMENT naming it, before anything is made', async () => {
    await assert.rejects(
      runPod(podConfig({ port_mappings: [{ protocol: 'TCP', container_port: 70000, host_port: 80 }] })),
      code(grpc.status.INVALID_ARGUMENT, /config\.port_mappings\[0\]\.container_port/),
    );
    await nothingLeft();
  });

  test('a host-network pod skips CNI', async () => {
    const id = await runPod(
      podConfig({ linux: { security_context: { namespace_options: { network: 'NODE' } } } }),
    );
    assert.equal((await statusOf(id)).network.ip, '');
    assert.equal(await exists(cacheOf(id)), false);
    assert.equal((await allocations()).size, 0);
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
  });

  test('no config at all: NetworkReady false with the reason; pods get loopback only', async () => {
    await fsp.rm(path.join(confDir, '10-test.conflist'));
    const c = await networkReady();
    assert.equal(c.status, false);
    assert.match(c.message, /no network config found in/);
    const id = await runPod(podConfig());
    assert.equal((await statusOf(id)).network.ip, '');
    const links = (await run('nsenter', [`--net=${netnsOf(id)}`, 'ip', '-o', 'link'])).stdout
      .trim()
      .split('\n');
    assert.equal(links.length, 1, links.join('\n'));
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
    await nothingLeft();
  });
});
