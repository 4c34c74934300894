// Side by side with Docker, the docker CLI against both daemons in one run: `docker load` of a
// ~200 MB multi-layer archive, and the legacy builder's cold build, fully cached build and
// rebuild after one changed file of a 50 MB / 1000-file context. Rounds are interleaved (each
// round starts with a different daemon, so neither always pays for the other's writeback);
// medians and the ratio Berth/Docker are printed. The Docker daemon is Debian's docker.io
// (never a dependency of Berth), started privately by bench-dockerd.ts; without it only the
// Berth columns are printed.
//
// Run: node --import tsx scripts/bench-vs-docker.ts [rounds] [--only=load|build] [--no-build]
//        [--base=<dir with an older berthd.mjs>]   adds that berthd as a column (before/after)
//        [--cpu-prof=<dir>]                         runs berthd under node --cpu-prof
//        [--no-docker]                              Berth columns only (a before/after of Berth)
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';
import { dockerLegacyArchive, makeTar } from '../test/helpers/tarballs.ts';
import { startDockerd } from './bench-dockerd.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5);
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const ONLY = flag('only');
const BASE = flag('base');
const CPU_PROF = flag('cpu-prof');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function timed(args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync('docker', args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 600_000,
  });
  const dt = performance.now() - t;
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${r.stderr}`);
  return dt;
}

const DOCKERFILE = `FROM busybox
COPY data/ /data/
RUN ls /data | wc -l > /count
`;

interface Daemon {
  readonly name: string;
  readonly env: NodeJS.ProcessEnv;
}

async function berthd(tmp: string, name: string, dist: string): Promise<{ d: TestDaemon; daemon: Daemon }> {
  const node = ['node', ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [])];
  const d = await startTestDaemon({ command: [...node, path.join(dist, 'berthd.mjs')] });
  await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox:latest']);
  const env = { DOCKER_HOST: d.host, DOCKER_CONFIG: path.join(tmp, `cfg-${name}`), DOCKER_BUILDKIT: '0' };
  return { d, daemon: { name, env } };
}

async function main(): Promise<void> {
  if (!process.argv.includes('--no-build'))
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-vs-docker-'));
  const berths: TestDaemon[] = [];
  let docker: Awaited<ReturnType<typeof startDockerd>>;
  try {
    const daemons: Daemon[] = [];
    const cur = await berthd(tmp, 'berth', path.join(ROOT, 'dist'));
    berths.push(cur.d);
    daemons.push(cur.daemon);
    if (BASE) {
      const base = await berthd(tmp, 'berth (base)', path.resolve(BASE));
      berths.push(base.d);
      daemons.push(base.daemon);
    }
    docker = process.argv.includes('--no-docker') ? undefined : await startDockerd(path.join(tmp, 'docker'));
    if (docker) {
      const env = {
        DOCKER_HOST: docker.host,
        DOCKER_CONFIG: path.join(tmp, 'cfg-docker'),
        DOCKER_BUILDKIT: '0',
      };
      const saved = path.join(tmp, 'busybox.tar');
      execFileSync('docker', ['save', '-o', saved, 'busybox:latest'], {
        env: { ...process.env, ...daemons[0]!.env },
      });
      execFileSync('docker', ['load', '-i', saved], { env: { ...process.env, ...env }, stdio: 'ignore' });
      daemons.push({ name: 'Docker 20.10 (dockerd)', env });
    } else console.log('(no dockerd installed: the Docker column is skipped)');

    // The load archive: 10 layers of an 18 MB file and 200 small files each (~200 MB).
    const archive = path.join(tmp, 'big.tar');
    if (ONLY !== 'build') {
      const layers: Buffer[] = [];
      for (let i = 0; i < 10; i++) {
        const files = [{ name: `layer${i}/big`, body: randomBytes(18 << 20) }];
        for (let j = 0; j < 200; j++) files.push({ name: `layer${i}/small/${j}`, body: randomBytes(4096) });
        layers.push(await makeTar(files));
      }
      const { tar } = await dockerLegacyArchive([{ layers, repoTags: ['bench/big:1'] }]);
      writeFileSync(archive, tar);
    }
    // The build context: 1000 files of 50 KB.
    const ctx = path.join(tmp, 'ctx');
    mkdirSync(path.join(ctx, 'data'), { recursive: true });
    for (let i = 0; i < 1000; i++) writeFileSync(path.join(ctx, 'data', `f${i}`), randomBytes(50 * 1024));
    writeFileSync(path.join(ctx, 'Dockerfile'), DOCKERFILE);

    const rows =
      ONLY === 'load'
        ? ['load']
        : ONLY === 'build'
          ? ['cold', 'cached', 'changed']
          : ['load', 'cold', 'cached', 'changed'];
    const res = new Map(daemons.map((d) => [d.name, new Map(rows.map((r) => [r, [] as number[]]))]));
    for (let i = 0; i < ROUNDS; i++) {
      const order = daemons.map((_, j) => daemons[(i + j) % daemons.length]!);
      for (const d of order) {
        const r = res.get(d.name)!;
        execFileSync('sync');
        if (rows.includes('load')) {
          r.get('load')!.push(timed(['load', '-q', '-i', archive], d.env));
          timed(['rmi', 'bench/big:1'], d.env);
          execFileSync('sync');
        }
        if (rows.includes('cold')) {
          r.get('cold')!.push(
            timed(['build', '-q', '--network', 'none', '--no-cache', '-t', 'bench/ctx', ctx], d.env),
          );
          r.get('cached')!.push(timed(['build', '-q', '--network', 'none', '-t', 'bench/ctx', ctx], d.env));
          writeFileSync(path.join(ctx, 'data', 'f500'), randomBytes(50 * 1024));
          r.get('changed')!.push(timed(['build', '-q', '--network', 'none', '-t', 'bench/ctx', ctx], d.env));
        }
      }
    }
    const loadMb = ONLY === 'build' ? 0 : (await fsp.stat(archive)).size / 1e6;
    const label: Record<string, string> = {
      load: `load ${loadMb.toFixed(0)} MB, 10 layers`,
      cold: 'build, cold (--no-cache)',
      cached: 'build, fully cached',
      changed: 'build, 1 of 1000 files changed',
    };
    console.log(`\n== docker CLI against each daemon: ${ROUNDS} rounds interleaved, median ms`);
    console.log(`${'row'.padEnd(32)} ${daemons.map((d) => d.name.padStart(24)).join(' ')}`);
    for (const row of rows) {
      const cells = daemons.map((d) => median(res.get(d.name)!.get(row)!).toFixed(0).padStart(24));
      console.log(`${label[row]!.padEnd(32)} ${cells.join(' ')}`);
    }
    const last = daemons.at(-1)!;
    if (daemons.length > 1) {
      console.log(`\nratios (column / ${last.name}; < 1 is faster):`);
      for (const row of rows) {
        const base = median(res.get(last.name)!.get(row)!);
        const cells = daemons
          .slice(0, -1)
          .map((d) => `${d.name} ${(median(res.get(d.name)!.get(row)!) / base).toFixed(2)}×`);
        console.log(`${label[row]!.padEnd(32)} ${cells.join('   ')}`);
      }
    }
    if (process.argv.includes('--raw'))
      console.log(JSON.stringify(Object.fromEntries([...res].map(([k, v]) => [k, Object.fromEntries(v)]))));
  } finally {
    await docker?.stop();
    for (const d of berths) await d.cleanup();
    await fsp.rm(tmp, { recursive: true, force: true });
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes(tmp))
      console.log(`(mounts remain below ${tmp})`);
  }
}

await main();
