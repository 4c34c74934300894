// Compose benchmark asked by the compose issue, side by side on the same berthd: `up -d` and
// `down` of a 10-service project (busybox, default network) with berth compose and with
// Debian's docker-compose 1.29. Median of 3 rounds each; the aim is Berth's `up -d` at least
// 2x faster than docker-compose 1.29 on the same engine.
//
//   node --import tsx scripts/bench-compose.ts [--no-build]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const N = 10;
const ROUNDS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (!process.argv.includes('--no-build'))
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
const d = await startTestDaemon();
const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-compose-'));
try {
  execFileSync(path.join(ROOT, 'bin/berth'), ['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox'], {
    env: { ...process.env, BERTH_HOST: d.host },
    stdio: 'ignore',
  });
  const svcs = Array.from(
    { length: N },
    (_, i) => `  s${i}:\n    image: busybox\n    command: [sleep, "1000"]\n    stop_grace_period: 1s\n`,
  ).join('');
  writeFileSync(
    path.join(dir, 'docker-compose.yml'),
    `version: "3.8"\nservices:\n${svcs}networks:\n  default:\n    ipam: {config: [{subnet: "10.198.${d.netByte}.0/24"}]}\n`,
  );
  const env = { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host, COMPOSE_PROJECT_NAME: 'bench' };
  const timed = (cmd: string, args: string[]) => {
    const t = performance.now();
    const r = spawnSync(cmd, args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    return performance.now() - t;
  };
  const tools: [string, string, string[]][] = [
    ['berth compose', path.join(ROOT, 'bin/berth'), ['compose']],
    ['docker-compose 1.29', 'docker-compose', []],
  ];
  const results: Record<string, { up: number; down: number }> = {};
  for (const [name, cmd, pre] of tools) {
    if (spawnSync(cmd, [...pre, 'version'], { stdio: 'ignore' }).status !== 0) {
      console.log(`${name}: not installed, skipped`);
      continue;
    }
    const ups: number[] = [];
    const downs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      ups.push(timed(cmd, [...pre, 'up', '-d']));
      downs.push(timed(cmd, [...pre, 'down', '-t', '1']));
    }
    results[name] = { up: median(ups), down: median(downs) };
  }
  console.log(`\n== compose: ${N}-service project on berthd (median of ${ROUNDS})`);
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `${name.padEnd(20)} up -d ${r.up.toFixed(0).padStart(6)} ms   down ${r.down.toFixed(0).padStart(6)} ms`,
    );
  }
  const b = results['berth compose'];
  const v = results['docker-compose 1.29'];
  if (b && v)
    console.log(`speed-up: up -d ${(v.up / b.up).toFixed(1)}x, down ${(v.down / b.down).toFixed(1)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  await d.cleanup();
}
