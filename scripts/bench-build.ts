// Dockerfile builds, side by side in one run: `berth build` and the real docker CLI's legacy
// builder against berthd, and — where `dockerd` is installed (Debian's docker.io; never a
// dependency) — the same Dockerfile on a private Docker daemon started here on loopback-only
// sockets. Cases: a cold multi-stage build (2000 small files made by RUN, a 50 MB context of
// 1000 files plus 20 MB kept out by .dockerignore), the same build fully cached, the build after
// one changed file, and two independent stages built together versus one after the other.
// Run: node --import tsx scripts/bench-build.ts [runs]
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';
import { startDockerd } from './bench-dockerd.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 3);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const MAIN = `FROM busybox AS gen
RUN mkdir /gen && cd /gen && i=0 && while [ $i -lt 2000 ]; do echo $i > f$i; i=$((i+1)); done
FROM busybox AS tools
RUN mkdir /tools && cd /tools && i=0 && while [ $i -lt 500 ]; do echo t$i > t$i; i=$((i+1)); done
FROM busybox
COPY data/ /data/
COPY --from=gen /gen /gen
COPY --from=tools /tools /tools
RUN ls /data | wc -l > /count
`;

// Two stages with the same amount of work and no dependency between them; the last stage
// takes one file of each, so the whole build is about the two stages' work.
const PARALLEL = `FROM busybox AS a
RUN mkdir /a && cd /a && i=0 && while [ $i -lt 1500 ]; do echo $i > f$i; i=$((i+1)); done && sleep 1
FROM busybox AS b
RUN mkdir /b && cd /b && i=0 && while [ $i -lt 1500 ]; do echo $i > f$i; i=$((i+1)); done && sleep 1
FROM busybox
COPY --from=a /a/f1 /a1
COPY --from=b /b/f1 /b1
`;

function makeContext(dir: string): void {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  mkdirSync(path.join(dir, 'ignored'), { recursive: true });
  for (let i = 0; i < 1000; i++) writeFileSync(path.join(dir, 'data', `f${i}`), randomBytes(50 * 1024));
  for (let i = 0; i < 200; i++) writeFileSync(path.join(dir, 'ignored', `g${i}`), randomBytes(100 * 1024));
  writeFileSync(path.join(dir, '.dockerignore'), 'ignored\n');
  writeFileSync(path.join(dir, 'Dockerfile'), MAIN);
  writeFileSync(path.join(dir, 'Dockerfile.parallel'), PARALLEL);
}

interface Candidate {
  readonly name: string;
  build(args: string[]): number;
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 600_000,
  });
  const dt = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return dt;
}

async function main(): Promise<void> {
  if (!process.argv.includes('--no-build'))
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const d = await startTestDaemon();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-build-'));
  let docker: Awaited<ReturnType<typeof startDockerd>>;
  try {
    const ctx = path.join(tmp, 'ctx');
    makeContext(ctx);
    await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox:latest']);
    const berthEnv = {
      BERTH_HOST: d.host,
      DOCKER_HOST: d.host,
      DOCKER_CONFIG: path.join(d.dir, 'docker-config'),
    };
    const cands: Candidate[] = [
      {
        name: 'berth build',
        build: (a) =>
          timed(path.join(ROOT, 'bin/berth'), ['build', '-q', '--network', 'none', ...a], berthEnv),
      },
      {
        name: 'docker build (legacy) → berthd',
        build: (a) =>
          timed('docker', ['build', '-q', '--network', 'none', ...a], { ...berthEnv, DOCKER_BUILDKIT: '0' }),
      },
    ];
    docker = await startDockerd(path.join(tmp, 'docker'));
    if (docker) {
      const saved = path.join(tmp, 'busybox.tar');
      execFileSync(path.join(ROOT, 'bin/berth'), ['save', '-o', saved, 'busybox:latest'], {
        env: { ...process.env, ...berthEnv },
      });
      execFileSync('docker', ['-H', docker.host, 'load', '-i', saved], { stdio: 'ignore' });
      const env = { DOCKER_HOST: docker.host, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: path.join(tmp, 'dcfg') };
      cands.push({
        name: 'Docker 20.10 legacy builder (dockerd)',
        build: (a) => timed('docker', ['build', '-q', '--network', 'none', ...a], env),
      });
    }
    const results = new Map<string, Record<string, number[]>>();
    for (const c of cands)
      results.set(c.name, { cold: [], cached: [], changed: [], parallel: [], a: [], b: [] });
    for (let i = 0; i < RUNS; i++) {
      // Each run starts with a different candidate: the first build after another daemon's
      // writes pays for their writeback, and that must not always hit the same one.
      const order = cands.map((_, j) => cands[(i + j) % cands.length]!);
      for (const c of order) {
        const r = results.get(c.name)!;
        r.cold!.push(c.build(['--no-cache', ctx]));
        r.cached!.push(c.build([ctx]));
        writeFileSync(path.join(ctx, 'data', 'f500'), randomBytes(50 * 1024));
        r.changed!.push(c.build([ctx]));
        const pf = ['-f', path.join(ctx, 'Dockerfile.parallel')];
        r.parallel!.push(c.build(['--no-cache', ...pf, ctx]));
        r.a!.push(c.build(['--no-cache', '--target', 'a', ...pf, ctx]));
        r.b!.push(c.build(['--no-cache', '--target', 'b', ...pf, ctx]));
      }
    }
    console.log(
      `\n== docker build: 50 MB context (1000 files, 20 MB more .dockerignored), 2000 files made by RUN; ${RUNS} runs, median ms`,
    );
    const base = results.get(cands.at(-1)!.name)!;
    const hdr = `${'candidate'.padEnd(40)} ${'cold'.padStart(8)} ${'cached'.padStart(8)} ${'1 change'.padStart(9)} ${'2 stages'.padStart(9)} ${'a then b'.padStart(9)}`;
    console.log(hdr);
    for (const c of cands) {
      const r = results.get(c.name)!;
      const seq = r.a!.map((x, i) => x + r.b![i]!);
      console.log(
        `${c.name.padEnd(40)} ${median(r.cold!).toFixed(0).padStart(8)} ${median(r.cached!).toFixed(0).padStart(8)} ${median(r.changed!).toFixed(0).padStart(9)} ${median(r.parallel!).toFixed(0).padStart(9)} ${median(seq).toFixed(0).padStart(9)}`,
      );
    }
    console.log('\nratios (candidate / last row; < 1 is faster):');
    for (const c of cands.slice(0, -1)) {
      const r = results.get(c.name)!;
      const ratio = (k: string) => (median(r[k]!) / median(base[k]!)).toFixed(2);
      console.log(
        `${c.name.padEnd(40)} cold ${ratio('cold')}×  cached ${ratio('cached')}×  1 change ${ratio('changed')}×  2 stages ${ratio('parallel')}×`,
      );
    }
    for (const c of cands) {
      const r = results.get(c.name)!;
      const seq = r.a!.map((x, i) => x + r.b![i]!);
      console.log(
        `${c.name.padEnd(40)} two independent stages together / one after the other: ${(median(r.parallel!) / median(seq)).toFixed(2)}`,
      );
    }
  } finally {
    await docker?.stop();
    await d.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
