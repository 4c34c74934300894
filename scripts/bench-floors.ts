// npm run bench:floors (also part of `npm run bench`): Berth's start, exec and list paths against
// the physical floors, measured in the same run and interleaved round by round so machine noise
// hits every row alike (issue 20). The floors:
//  - `runc run` of the busybox rootfs from a bundle of our own (runc's default spec: its own
//    network namespace with only loopback, no veth or bridge: the `--network none` of runc);
//  - `runc exec <c> true` into a runc container of our own;
//  - `docker version` against berthd: the docker CLI's start and one round trip.
// Berth: `docker run --rm busybox true` (default bridge and --network none), `docker exec c true`,
// and `docker ps -a` with 200 created (not started) containers. The medians and each ratio are
// printed with the target beside it. Everything made here is removed in `finally`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 15);
const PS_CONTAINERS = 200;
const BERTH = path.join(ROOT, 'bin/berth');

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Runs a command to completion and returns its wall time; a failure stops the bench. */
function timed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  const dt = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return dt;
}

/** A runc bundle of the busybox rootfs that runs `args` (runc's default spec otherwise). */
async function makeBundle(dir: string, args: readonly string[]): Promise<void> {
  await fsp.mkdir(path.join(dir, 'rootfs'), { recursive: true });
  execFileSync('tar', ['-xf', busyboxTar(), '-C', path.join(dir, 'rootfs')]);
  execFileSync('runc', ['spec', '--bundle', dir]);
  const file = path.join(dir, 'config.json');
  const spec = JSON.parse(await fsp.readFile(file, 'utf8'));
  spec.process.terminal = false;
  spec.process.args = args;
  // runc's default spec caps RLIMIT_NOFILE at 1024 soft/hard, which some hosts refuse to lower to.
  delete spec.process.rlimits;
  await fsp.writeFile(file, JSON.stringify(spec));
}

interface Row {
  readonly name: string;
  readonly samples: number[];
}

function printRatio(label: string, a: Row, b: Row, target?: number): void {
  const r = median(a.samples) / median(b.samples);
  const goal = target === undefined ? '' : `   target ≤ ${target}×   ${r <= target ? 'met' : 'not met'}`;
  console.log(`${label.padEnd(44)} ${r.toFixed(2).padStart(6)}×${goal}`);
}

async function createContainers(d: TestDaemon, n: number): Promise<void> {
  const body = JSON.stringify({ Image: 'busybox', Cmd: ['true'] });
  const headers = { 'Content-Type': 'application/json' };
  // A few creates in flight at once: 200 sequential creates would take longer than the bench.
  for (let i = 0; i < n; i += 8) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 8); j++) {
      batch.push(
        d.request('POST', `/containers/create?name=floor-ps-${j}`, body, headers).then((r) => {
          if (r.status !== 201) throw new Error(`create floor-ps-${j}: ${r.status} ${r.body}`);
        }),
      );
    }
    await Promise.all(batch);
  }
}

export async function benchFloors(opts: { build: boolean }): Promise<void> {
  if (opts.build) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-floors-'));
  const runcRoot = path.join(tmp, 'runc-root');
  const execCtr = `floor-exec-${process.pid}`;
  let d: TestDaemon | undefined;
  try {
    // BENCH_BERTHD=<a berthd.mjs>: measure another build (an earlier commit's dist) the same way.
    d = await startTestDaemon(
      process.env.BENCH_BERTHD ? { command: ['node', process.env.BENCH_BERTHD] } : {},
    );
    const env = {
      ...process.env,
      DOCKER_HOST: d.host,
      BERTH_HOST: d.host,
      DOCKER_CONFIG: path.join(d.dir, 'docker-config'),
    };
    const imp = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox:latest']);
    if (imp.code !== 0) throw new Error(`import: ${imp.stderr}`);

    const runBundle = path.join(tmp, 'run-bundle');
    const execBundle = path.join(tmp, 'exec-bundle');
    await makeBundle(runBundle, ['true']);
    await makeBundle(execBundle, ['sleep', '100000']);
    // -d: runc returns once the container runs; stdio goes nowhere, so nothing holds a pipe.
    execFileSync('runc', ['--root', runcRoot, 'run', '-d', '--bundle', execBundle, execCtr], {
      stdio: 'ignore',
    });
    const started = await d.docker(['run', '-d', '--name', 'floor-exec', 'busybox', 'sleep', '100000']);
    if (started.code !== 0) throw new Error(`docker run -d: ${started.stderr}`);

    const rows = {
      runcRun: { name: 'runc run (floor)', samples: [] as number[] },
      runcExec: { name: 'runc exec (floor)', samples: [] as number[] },
      version: { name: 'docker version (floor)', samples: [] as number[] },
      run: { name: 'docker run --rm busybox true', samples: [] as number[] },
      runNone: { name: 'docker run --rm --network none', samples: [] as number[] },
      exec: { name: 'docker exec c true', samples: [] as number[] },
      ps: { name: `docker ps -a (${PS_CONTAINERS} containers)`, samples: [] as number[] },
      berthRun: { name: 'berth run --rm busybox true', samples: [] as number[] },
      version2: { name: 'docker version (ps phase)', samples: [] as number[] },
    } satisfies Record<string, Row>;

    // One untimed round: first-use costs (the default bridge, JIT) are not the steady state.
    const round = (i: number, record: boolean) => {
      const add = (row: Row, ms: number) => record && row.samples.push(ms);
      add(
        rows.runcRun,
        timed('runc', ['--root', runcRoot, 'run', '--bundle', runBundle, `floor-${process.pid}-${i}`], env),
      );
      add(rows.run, timed('docker', ['run', '--rm', 'busybox', 'true'], env));
      add(rows.version, timed('docker', ['version'], env));
      add(rows.runNone, timed('docker', ['run', '--rm', '--network', 'none', 'busybox', 'true'], env));
      add(rows.runcExec, timed('runc', ['--root', runcRoot, 'exec', execCtr, 'true'], env));
      add(rows.exec, timed('docker', ['exec', 'floor-exec', 'true'], env));
      add(rows.berthRun, timed(BERTH, ['run', '--rm', 'busybox', 'true'], env));
    };
    round(-1, false);
    for (let i = 0; i < ROUNDS; i++) round(i, true);

    // The rounds block the event loop (spawnSync): let it see what arrived meanwhile, such as
    // berthd closing an idle keep-alive connection, before the creates reuse a pooled socket
    // (a write on that closed socket failed the bench with EPIPE).
    await new Promise((r) => setTimeout(r, 100));
    await createContainers(d, PS_CONTAINERS);
    timed('docker', ['ps', '-a'], env);
    for (let i = 0; i < ROUNDS; i++) {
      rows.ps.samples.push(timed('docker', ['ps', '-a'], env));
      rows.version2.samples.push(timed('docker', ['version'], env));
    }

    console.log(`\n== floors: Berth against runc and the docker CLI (${ROUNDS} interleaved rounds, medians)`);
    for (const row of Object.values(rows))
      console.log(`${row.name.padEnd(44)} ${median(row.samples).toFixed(1).padStart(8)} ms`);
    console.log('');
    printRatio('run --rm (bridge) / runc run', rows.run, rows.runcRun, 3);
    printRatio('run --rm --network none / runc run', rows.runNone, rows.runcRun, 2);
    printRatio('exec / runc exec', rows.exec, rows.runcExec, 2.5);
    printRatio('berth run --rm / runc run (no target)', rows.berthRun, rows.runcRun);
    printRatio(`ps -a (${PS_CONTAINERS}) / docker version`, rows.ps, rows.version2, 1.5);
  } catch (err) {
    // berthd's last words say more than the client's error (EPIPE, a status) alone.
    const tail = d
      ?.logs()
      .split('\n')
      .filter((l) => !l.includes('"level":"debug"'))
      .slice(-20)
      .join('\n');
    console.error(`${String(err)}\nberthd's log, last lines:\n${tail ?? '(not started)'}`);
    throw err;
  } finally {
    spawnSync('runc', ['--root', runcRoot, 'delete', '-f', execCtr], { stdio: 'ignore' });
    // A run cut short by a failure can leave its container in runc's state: remove every one.
    const left = spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout ?? '';
    for (const id of left.split('\n').filter(Boolean))
      spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id], { stdio: 'ignore' });
    // cleanup() kills berthd and reaps its containers, monitors, mounts and network leftovers.
    await d?.cleanup();
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  await benchFloors({ build: !process.argv.includes('--no-build') });
