// CRI benchmark asked by issue 19: pod sandbox start and stop, and CreateContainer+StartContainer,
// against containerd's CRI on the same machine (Debian's `containerd` package, only when
// /usr/bin/containerd exists). Both runtimes get:
//  - the same gRPC client (the repo's proto, src/cri/api-proto.gen.ts) and the same requests;
//  - the same busybox image (berth imports it, `berth save` writes the tar that
//    `ctr images import` loads into containerd);
//  - pod networking through the same CNI plugins (/usr/lib/cni bridge + host-local, no portmap so
//    no iptables rules), each on its own bridge and /24 of 10.191.x (no other test uses 10.191);
//  - cgroupfs, pods under a cgroup parent of this bench (removed at the end).
// containerd is a private one: its own config, root, state and socket in a temp dir, started and
// stopped by PID (never the system service). Its sandbox image is a tiny local pause image made
// from Berth's dist/berth-pause (there is no registry.k8s.io here).
// Rounds are interleaved (Berth then containerd, the order flipping every round) after one warm-up
// round each; each row is the median over the rounds, with the ratio Berth/containerd.
//   npm run bench:cri [-- --rounds N] [-- --trace]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { criPackage, type Msg } from '../src/cri/server.ts';
import { type CriCall, type CriDaemon, startCriDaemon } from '../test/helpers/cri.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';
import { median, ROOT, runAsScript } from './bench-lib.ts';

const CONTAINERD = '/usr/bin/containerd';
const CTR = '/usr/bin/ctr';
const ROWS = [
  'RunPodSandbox',
  'CreateContainer+StartContainer',
  'StopContainer+RemoveContainer',
  'StopPodSandbox+RemovePodSandbox',
] as const;
type Row = (typeof ROWS)[number];

/** One runtime under test, as the bench drives it. */
interface Runtime {
  readonly name: string;
  readonly runtime: CriCall;
  readonly image: CriCall;
  /** Image ref CreateContainer gets (what ImageStatus reports, as the kubelet passes it). */
  imageRef: string;
  readonly cgParent: string;
  readonly logDir: string;
  /** Network namespaces of the pods it ran (checked gone after the run). */
  readonly netns: Set<string>;
  stop(): Promise<void>;
}

function caller(client: grpc.Client): CriCall {
  return (method, req = {}) =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, unknown>)[method];
      if (typeof fn !== 'function') return reject(new Error(`no CRI method ${method}`));
      fn.call(client, req, { deadline: Date.now() + 60_000 }, (err: grpc.ServiceError | null, res: Msg) =>
        err ? reject(Object.assign(err, { message: `${method}: ${err.message}` })) : resolve(res),
      );
    });
}

function freeNetBytes(): number[] {
  const routes = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all']).toString();
  const used = new Set([...routes.matchAll(/10\.191\.(\d+)\./g)].map((m) => Number(m[1])));
  const free = [...Array(250).keys()].map((i) => i + 2).filter((b) => !used.has(b));
  const a = free[Math.floor(Math.random() * free.length)]!;
  const b = free.find((x) => x !== a)!;
  return [a, b];
}

async function writeConflist(dir: string, bridge: string, netByte: number): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  const conf = {
    cniVersion: '1.0.0',
    name: `bench-${bridge}`,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          dataDir: path.join(dir, 'ipam'),
          ranges: [[{ subnet: `10.191.${netByte}.0/24` }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
    ],
  };
  await fsp.writeFile(path.join(dir, '10-bench.conflist'), JSON.stringify(conf));
}

async function waitFor(what: string, fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A containerd of our own; `tmp` holds its config, root, state, socket, CNI config and log. */
async function startContainerd(
  tmp: string,
  images: readonly string[],
  netByte: number,
): Promise<{ client: { rt: grpc.Client; im: grpc.Client }; proc: ChildProcess; sock: string }> {
  const sock = path.join(tmp, 'containerd.sock');
  const netDir = path.join(tmp, 'net.d');
  await writeConflist(netDir, `bbctr${netByte}`, netByte);
  const config = `version = 2
root = "${tmp}/root"
state = "${tmp}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${tmp}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "berth.bench/pause:1"
  disable_apparmor = true
  # Without CAP_SYS_RESOURCE here, the sandbox's oom_score_adj -998 fails runc: keep it >= ours.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${tmp}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${netDir}"
    max_conf_num = 1
`;
  await fsp.writeFile(path.join(tmp, 'config.toml'), config);
  const log = openSync(path.join(tmp, 'containerd.log'), 'a');
  const proc = spawn(CONTAINERD, ['--config', path.join(tmp, 'config.toml')], {
    stdio: ['ignore', log, log],
  });
  await waitFor('containerd socket', async () => existsSync(sock));
  for (const tar of images)
    execFileSync(CTR, ['-n', 'k8s.io', '-a', sock, 'images', 'import', tar], { stdio: 'ignore' });
  const v1 = (criPackage().runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const mk = (name: string) =>
    new (v1[name] as grpc.ServiceClientConstructor)(`unix://${sock}`, grpc.credentials.createInsecure());
  const rt = mk('RuntimeService');
  const im = mk('ImageService');
  await Promise.all(
    [rt, im].map(
      (c) =>
        new Promise<void>((res, rej) => c.waitForReady(Date.now() + 10_000, (e) => (e ? rej(e) : res()))),
    ),
  );
  // Until the CRI plugin has loaded the CNI config, pod sandboxes fail: wait for NetworkReady.
  const status = caller(rt);
  await waitFor('containerd NetworkReady', async () => {
    const s = await status('Status', {});
    return (s.status.conditions as Msg[]).every((c) => c.status === true);
  });
  return { client: { rt, im }, proc, sock };
}

/** The seccomp profile both runtimes are asked for, explicitly (their defaults for "unset" differ). */
type Seccomp = 'RuntimeDefault' | 'Unconfined';

function podConfig(rt: Runtime, seq: number, seccomp: Seccomp): Msg {
  return {
    metadata: { name: `bench-${seq}`, uid: `bench-${process.pid}-${seq}`, namespace: 'default', attempt: 0 },
    hostname: `bench-${seq}`,
    log_directory: path.join(rt.logDir, `pod-${seq}`),
    linux: {
      cgroup_parent: `${rt.cgParent}/p${seq}`,
      security_context: {
        namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
        seccomp: { profile_type: seccomp },
      },
    },
  };
}

/** One round on one runtime: each row's wall time in ms. */
async function round(rt: Runtime, seq: number, seccomp: Seccomp): Promise<Record<Row, number>> {
  const config = podConfig(rt, seq, seccomp);
  await fsp.mkdir(config.log_directory, { recursive: true });
  let t = performance.now();
  const { pod_sandbox_id } = await rt.runtime('RunPodSandbox', { config });
  const run = performance.now() - t;
  const st = await rt.runtime('PodSandboxStatus', { pod_sandbox_id, verbose: true });
  for (const ns of netnsOf(st)) rt.netns.add(ns);
  t = performance.now();
  const { container_id } = await rt.runtime('CreateContainer', {
    pod_sandbox_id,
    config: {
      metadata: { name: 'sleeper', attempt: 0 },
      image: { image: rt.imageRef },
      // Ends at once on SIGTERM (a shell waiting on a child takes the trap), as a real app does.
      command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'],
      log_path: 'sleeper/0.log',
      linux: { security_context: { seccomp: { profile_type: seccomp } } },
    },
    sandbox_config: config,
  });
  await rt.runtime('StartContainer', { container_id });
  const create = performance.now() - t;
  t = performance.now();
  await rt.runtime('StopContainer', { container_id, timeout: 10 });
  await rt.runtime('RemoveContainer', { container_id });
  const stopCtr = performance.now() - t;
  t = performance.now();
  await rt.runtime('StopPodSandbox', { pod_sandbox_id });
  await rt.runtime('RemovePodSandbox', { pod_sandbox_id });
  const stopPod = performance.now() - t;
  return {
    RunPodSandbox: run,
    'CreateContainer+StartContainer': create,
    'StopContainer+RemoveContainer': stopCtr,
    'StopPodSandbox+RemovePodSandbox': stopPod,
  };
}

/** Network namespace paths in a verbose PodSandboxStatus (containerd's runtimeSpec; Berth's info). */
function netnsOf(st: Msg): string[] {
  const info = JSON.stringify(st.info ?? {});
  return [...new Set([...info.matchAll(/(\/(?:var\/)?run\/netns\/[\w.-]+)/g)].map((m) => m[1]!))];
}

async function rmCgroups(parent: string): Promise<void> {
  for (const h of await fsp.readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const base = path.join('/sys/fs/cgroup', h, parent);
    const dirs = await fsp.readdir(base).catch(() => [] as string[]);
    for (const d of dirs) await fsp.rmdir(path.join(base, d)).catch(() => {});
    await fsp.rmdir(base).catch(() => {});
    await fsp.rmdir(path.dirname(base)).catch(() => {});
  }
}

async function main(): Promise<void> {
  const argRounds = process.argv.indexOf('--rounds');
  const rounds = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 15;
  const trace = process.argv.includes('--trace');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-cri-'));
  const [berthNet, ctrNet] = freeNetBytes() as [number, number];
  const tag = path.basename(tmp).replace(/^berth-bench-cri-/, '');
  const cleanups: (() => Promise<void>)[] = [];
  const runtimes: Runtime[] = [];
  try {
    // Berth: its own CNI folder and bridge.
    const berthNetDir = path.join(tmp, 'berth-net.d');
    await writeConflist(berthNetDir, `bbberth${berthNet}`, berthNet);
    if (trace) process.env.BERTH_TRACE = '1';
    const cri: CriDaemon = await startCriDaemon({
      config: { 'cni-conf-dir': berthNetDir, 'cni-bin-dir': '/usr/lib/cni' },
    });
    cleanups.push(() => cri.cleanup());
    cleanups.push(async () => {
      execFileSync('ip', ['link', 'del', `bbberth${berthNet}`], { stdio: 'ignore' });
    });
    const busy = 'berth.bench/busybox:1';
    const imp = await cri.d.berth(['import', busyboxTar(), busy]);
    if (imp.code !== 0) throw new Error(`berth import: ${imp.stderr}`);
    const berth: Runtime = {
      name: 'Berth',
      runtime: cri.runtime,
      image: cri.image,
      imageRef: '',
      cgParent: `/berth-bench-cri-${tag}/berth`,
      logDir: path.join(tmp, 'berth-logs'),
      netns: new Set(),
      stop: async () => {},
    };
    berth.imageRef = (await cri.image('ImageStatus', { image: { image: busy } })).image.id;
    runtimes.push(berth);
    cleanups.push(() => rmCgroups(berth.cgParent));

    if (existsSync(CONTAINERD)) {
      // The same busybox, and a pause image of Berth's pause binary, as tars for `ctr images import`.
      const busyTar = path.join(tmp, 'busybox-image.tar');
      const save = await cri.d.berth(['save', '-o', busyTar, busy]);
      if (save.code !== 0) throw new Error(`berth save: ${save.stderr}`);
      const pauseRoot = path.join(tmp, 'pause-rootfs');
      await fsp.mkdir(pauseRoot);
      await fsp.copyFile(path.join(ROOT, 'dist/berth-pause'), path.join(pauseRoot, 'pause'));
      await fsp.chmod(path.join(pauseRoot, 'pause'), 0o755);
      const pauseRootTar = path.join(tmp, 'pause-rootfs.tar');
      execFileSync('tar', ['-C', pauseRoot, '-cf', pauseRootTar, 'pause']);
      const pi = await cri.d.berth([
        'import',
        '-c',
        'ENTRYPOINT ["/pause"]',
        pauseRootTar,
        'berth.bench/pause:1',
      ]);
      if (pi.code !== 0) throw new Error(`berth import pause: ${pi.stderr}`);
      const pauseTar = path.join(tmp, 'pause-image.tar');
      const ps = await cri.d.berth(['save', '-o', pauseTar, 'berth.bench/pause:1']);
      if (ps.code !== 0) throw new Error(`berth save pause: ${ps.stderr}`);

      const ctrTmp = path.join(tmp, 'containerd');
      await fsp.mkdir(ctrTmp);
      // Made outside our temp dir: libcni's result cache (emptied at each DEL); removed after
      // the run unless it existed before.
      const outside = ['/var/lib/cni/results', '/var/lib/cni'].filter((d) => !existsSync(d));
      cleanups.push(async () => {
        for (const d of outside) await fsp.rmdir(d).catch(() => {});
      });
      const c = await startContainerd(ctrTmp, [pauseTar, busyTar], ctrNet);
      const ctrd: Runtime = {
        name: 'containerd',
        runtime: caller(c.client.rt),
        image: caller(c.client.im),
        imageRef: '',
        cgParent: `/berth-bench-cri-${tag}/containerd`,
        logDir: path.join(tmp, 'containerd-logs'),
        netns: new Set(),
        stop: async () => {
          c.client.rt.close();
          c.client.im.close();
          if (c.proc.exitCode === null) {
            const exited = new Promise((r) => c.proc.once('exit', r));
            process.kill(c.proc.pid!, 'SIGTERM');
            await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
            if (c.proc.exitCode === null && c.proc.signalCode === null) process.kill(c.proc.pid!, 'SIGKILL');
          }
        },
      };
      ctrd.imageRef = (await ctrd.image('ImageStatus', { image: { image: busy } })).image.id;
      runtimes.push(ctrd);
      cleanups.push(async () => {
        await ctrd.stop();
        await checkContainerdLeftovers(ctrTmp, ctrd, `bbctr${ctrNet}`);
      });
      cleanups.push(() => rmCgroups(ctrd.cgParent));
    } else {
      console.log(
        `(${CONTAINERD} is not installed: Berth's numbers only; apt-get install containerd to compare)`,
      );
    }

    let seq = 0;
    for (const seccomp of ['RuntimeDefault', 'Unconfined'] as const) {
      for (const rt of runtimes) await round(rt, ++seq, seccomp); // warm-up, not counted
      const samples = new Map(runtimes.map((rt) => [rt.name, new Map(ROWS.map((r) => [r, [] as number[]]))]));
      for (let i = 0; i < rounds; i++) {
        const order = i % 2 ? [...runtimes].reverse() : runtimes;
        for (const rt of order) {
          const r = await round(rt, ++seq, seccomp);
          for (const row of ROWS) samples.get(rt.name)!.get(row)!.push(r[row]);
        }
      }
      console.log(
        `\n== CRI latency, seccomp ${seccomp}, median of ${rounds} interleaved rounds (ms; pod network via CNI bridge)`,
      );
      const names = runtimes.map((r) => r.name);
      console.log(
        [
          'row'.padEnd(34),
          ...names.map((n) => n.padStart(11)),
          names.length > 1 ? '  Berth/containerd' : '',
        ].join(''),
      );
      for (const row of ROWS) {
        const m = names.map((n) => median(samples.get(n)!.get(row)!));
        const ratio = m.length > 1 ? `  ${(m[0]! / m[1]!).toFixed(2)}` : '';
        console.log([row.padEnd(34), ...m.map((x) => x.toFixed(1).padStart(11)), ratio].join(''));
      }
    }
    if (trace) printTrace(await cri.d.request('GET', '/_berth/trace'));
  } finally {
    for (const c of cleanups.reverse()) await c().catch((e) => console.error(`cleanup: ${e}`));
    await rmCgroups(`/berth-bench-cri-${tag}`);
    if (process.env.BENCH_CRI_KEEP === '1') console.log(`kept ${tmp}`);
    else await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}

/** Berth's side under --trace: per CRI call, the median of the call and of each step's total in it. */
function printTrace(res: { body: Buffer }): void {
  const { records } = JSON.parse(res.body.toString()) as {
    records: { label: string; ms: number; spans: { name: string; ms: number; depth: number }[] }[];
  };
  const byCall = new Map<string, { ms: number[]; steps: Map<string, number[]> }>();
  for (const r of records) {
    if (!r.label.startsWith('CRI ')) continue;
    const c = byCall.get(r.label) ?? { ms: [] as number[], steps: new Map<string, number[]>() };
    byCall.set(r.label, c);
    c.ms.push(r.ms);
    const sums = new Map<string, number>();
    for (const sp of r.spans) sums.set(sp.name, (sums.get(sp.name) ?? 0) + sp.ms);
    for (const [name, ms] of sums) c.steps.set(name, [...(c.steps.get(name) ?? []), ms]);
  }
  console.log(
    '\n== berthd --trace: median ms per CRI call and its steps (nested steps are inside their parent step; all rounds, both profiles)',
  );
  for (const [label, c] of byCall) {
    if (
      !/RunPodSandbox|StopPodSandbox|RemovePodSandbox|CreateContainer|StartContainer|StopContainer|RemoveContainer/.test(
        label,
      )
    )
      continue;
    const steps = [...c.steps]
      .map(([n, xs]) => [n, median(xs), xs.length] as const)
      .sort((a, b) => b[1] - a[1]);
    console.log(
      `${label} ${median(c.ms).toFixed(1)} (n=${c.ms.length}): ${steps.map(([n, m, k]) => `${n} ${m.toFixed(1)}${k < c.ms.length ? ` (in ${k})` : ''}`).join(', ')}`,
    );
  }
}

/** After containerd stopped: no mounts under its temp dir, no pod netns, no bridge; removes what is left. */
async function checkContainerdLeftovers(ctrTmp: string, rt: Runtime, bridge: string): Promise<void> {
  const left: string[] = [];
  const mounts = (await fsp.readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && m.startsWith(ctrTmp));
  for (const m of mounts.sort((a, b) => b.length - a.length)) {
    left.push(`mount ${m}`);
    execFileSync('umount', ['-l', m], { stdio: 'ignore' });
  }
  for (const ns of rt.netns)
    if (existsSync(ns)) {
      left.push(`netns ${ns}`);
      execFileSync('umount', [ns], { stdio: 'ignore' });
      await fsp.rm(ns, { force: true });
    }
  const rules = execFileSync('iptables-save')
    .toString()
    .split('\n')
    .filter((l) => l.includes(bridge) || l.includes(`bench-${bridge}`));
  if (rules.length > 0) left.push(`iptables ${rules.join(' | ')}`);
  // The bridge itself is made by the CNI bridge plugin, not containerd: it stays after the pods go.
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  } catch {}
  console.log(
    left.length === 0
      ? 'containerd stopped: no mounts, pod netns or iptables rules left'
      : `containerd left behind (removed now): ${left.join('; ')}`,
  );
}

await runAsScript(import.meta, main);
