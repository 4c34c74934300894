// Benchmark: `stats --no-stream` latency for 20 running containers, berth CLI vs docker CLI
// against the same berthd, with `runc events --stats` of the 20 containers as the floor (what a
// runtime-driven implementation would spawn). Run: node --import tsx scripts/bench-stats.ts
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const COUNT = 20;
const RUNS = 9;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function timeCmd(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const dt = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return dt;
}

async function main(): Promise<void> {
  if (!process.argv.includes('--no-build'))
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const d = await startTestDaemon();
  try {
    const env = { DOCKER_HOST: d.host, BERTH_HOST: d.host, DOCKER_CONFIG: path.join(d.dir, 'docker-config') };
    await d.berth(['import', busyboxTar(), 'busybox:latest']);
    const ids: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const r = await d.docker(['run', '-d', 'busybox', 'sleep', '600']);
      if (r.code !== 0) throw new Error(r.stderr);
      ids.push(r.stdout.trim());
    }
    const berth = path.join(ROOT, 'bin/berth');
    const runcRoot = path.join(d.dir, 'exec', 'runc');
    const b: number[] = [];
    const k: number[] = [];
    const f: number[] = [];
    // Cold first call (no earlier sample cached in berthd, so it waits for a CPU window).
    const coldBerth = timeCmd(berth, ['stats', '--no-stream'], env);
    await new Promise((r) => setTimeout(r, 6000));
    const coldDocker = timeCmd('docker', ['stats', '--no-stream'], env);
    for (let i = 0; i < RUNS; i++) {
      b.push(timeCmd(berth, ['stats', '--no-stream'], env));
      k.push(timeCmd('docker', ['stats', '--no-stream'], env));
      const t = performance.now();
      for (const id of ids) {
        const r = spawnSync('runc', ['--root', runcRoot, 'events', '--stats', id], { stdio: 'ignore' });
        if (r.status !== 0) throw new Error(`runc events --stats ${id} failed`);
      }
      f.push(performance.now() - t);
    }
    const ms = (n: number) => `${n.toFixed(1)} ms`;
    console.log(`\n== stats --no-stream, ${COUNT} running containers (${RUNS} runs, median)`);
    console.log(`berth stats --no-stream   cold ${ms(coldBerth)}   warm ${ms(median(b))}`);
    console.log(`docker stats --no-stream  cold ${ms(coldDocker)}   warm ${ms(median(k))}`);
    console.log(`floor: runc events --stats x${COUNT} (sequential) ${ms(median(f))}`);
  } finally {
    for (const id of (await d.docker(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean))
      await d.docker(['rm', '-f', id]);
    await d.cleanup();
  }
}

await main();
