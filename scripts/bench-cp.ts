// `cp` of a 100 MB directory into and out of a running container: `berth cp` and the real
// `docker cp` against berthd, with `tar c | docker exec -i ctr tar x` (and the reverse) as the
// floor — the same bytes through a plain tar pipe into the container's own tar.
// Run: node --import tsx scripts/bench-cp.ts [runs]
// Runs alternate between the candidates so machine noise hits all alike; medians are reported.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.argv[2] ?? 5);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** 100 MB: 20 files of 4 MB plus 2000 files of 10 KB in 20 directories. */
function makeTree(dir: string): number {
  let bytes = 0;
  mkdirSync(path.join(dir, 'big'), { recursive: true });
  for (let i = 0; i < 20; i++) {
    const b = randomBytes(4 << 20);
    writeFileSync(path.join(dir, 'big', `f${i}.bin`), b);
    bytes += b.length;
  }
  for (let d = 0; d < 20; d++) {
    mkdirSync(path.join(dir, 'small', `d${d}`), { recursive: true });
    for (let i = 0; i < 100; i++) {
      const b = randomBytes(10 * 1024);
      writeFileSync(path.join(dir, 'small', `d${d}`, `f${i}`), b);
      bytes += b.length;
    }
  }
  return bytes;
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const dt = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return dt;
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const d = await startTestDaemon();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-cp-'));
  try {
    const env = { DOCKER_HOST: d.host, BERTH_HOST: d.host, DOCKER_CONFIG: path.join(d.dir, 'docker-config') };
    const berth = path.join(ROOT, 'bin/berth');
    await d.berth(['import', busyboxTar(), 'busybox:latest']);
    const ctr = 'bench-cp';
    const started = await d.docker(['run', '-d', '--name', ctr, 'busybox', 'sleep', '3600']);
    if (started.code !== 0) throw new Error(started.stderr);
    const src = path.join(tmp, 'payload');
    const bytes = makeTree(src);
    console.log(
      `\n== cp of ${(bytes / 1e6).toFixed(0)} MB (${2020} files) into / out of a running container, ${RUNS} runs, median`,
    );

    const t = { berthIn: [] as number[], dockerIn: [] as number[], floorIn: [] as number[] };
    const o = { berthOut: [] as number[], dockerOut: [] as number[], floorOut: [] as number[] };
    const clean = () => d.docker(['exec', ctr, 'rm', '-rf', '/in-b', '/in-d', '/in-f']);
    await d.docker(['exec', ctr, 'mkdir', '-p', '/src']);
    await d.berth(['cp', src, `${ctr}:/src/`]);
    for (let i = 0; i < RUNS; i++) {
      await clean();
      await d.docker(['exec', ctr, 'mkdir', '/in-b', '/in-d', '/in-f']);
      t.berthIn.push(timed(berth, ['cp', src, `${ctr}:/in-b/`], env));
      t.dockerIn.push(timed('docker', ['cp', '-q', src, `${ctr}:/in-d/`], env));
      t.floorIn.push(
        timed('sh', ['-c', `tar -C ${tmp} -cf - payload | docker exec -i ${ctr} tar -xf - -C /in-f`], env),
      );
      const out = path.join(tmp, `out-${i}`);
      for (const k of ['b', 'd', 'f']) mkdirSync(path.join(out, k), { recursive: true });
      o.berthOut.push(timed(berth, ['cp', `${ctr}:/src/payload`, path.join(out, 'b')], env));
      o.dockerOut.push(timed('docker', ['cp', '-q', `${ctr}:/src/payload`, path.join(out, 'd')], env));
      o.floorOut.push(
        timed(
          'sh',
          ['-c', `docker exec ${ctr} tar -cf - -C /src payload | tar -xf - -C ${path.join(out, 'f')}`],
          env,
        ),
      );
      rmSync(out, { recursive: true, force: true });
    }
    const row = (name: string, xs: number[], floor: number[]) =>
      console.log(
        `${name.padEnd(44)} ${median(xs).toFixed(0).padStart(6)} ms   ${(median(xs) / median(floor)).toFixed(2)}× floor`,
      );
    row('in:  berth cp dir ctr:/in/', t.berthIn, t.floorIn);
    row('in:  docker cp dir ctr:/in/ (CLI 28 → berthd)', t.dockerIn, t.floorIn);
    row('in:  tar c | docker exec -i ctr tar x (floor)', t.floorIn, t.floorIn);
    row('out: berth cp ctr:/src/payload dir', o.berthOut, o.floorOut);
    row('out: docker cp ctr:/src/payload dir', o.dockerOut, o.floorOut);
    row('out: docker exec ctr tar c | tar x (floor)', o.floorOut, o.floorOut);
    await d.docker(['rm', '-f', ctr]);
  } finally {
    await d.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
