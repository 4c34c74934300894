// Compose benchmark asked by the compose issue, side by side on the same berthd: `up -d` and
// `down` of a 10-service project (busybox, default network) with berth compose and with
// Debian's docker-compose 1.29. Median of 5 interleaved rounds; the aim is Berth's `up -d` at least
// 2x faster than docker-compose 1.29 on the same engine. Where a Docker daemon runs
// (/var/run/docker.sock, or DOCKER_COMPARE_HOST), docker-compose 1.29 against Docker is timed
// too, for comparison.
//
//   node --import tsx scripts/bench-compose.ts [--no-build]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const N = 10;
const ROUNDS = 5;
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
  const dockerHost =
    process.env.DOCKER_COMPARE_HOST ??
    (existsSync('/var/run/docker.sock') ? 'unix:///var/run/docker.sock' : undefined);
  const timed = (cmd: string, args: string[], host = d.host) => {
    const t = performance.now();
    const r = spawnSync(cmd, args, {
      cwd: dir,
      env: { ...env, BERTH_HOST: host, DOCKER_HOST: host },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    return performance.now() - t;
  };
  const tools: [string, string, string[], string][] = [
    ['berth compose', path.join(ROOT, 'bin/berth'), ['compose'], d.host],
    ['docker-compose 1.29', 'docker-compose', [], d.host],
  ];
  if (dockerHost) {
    const imported = spawnSync(
      'docker',
      ['-H', dockerHost, 'import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox'],
      { stdio: 'ignore' },
    );
    if (imported.status === 0) tools.push(['1.29 on Docker', 'docker-compose', [], dockerHost]);
    else console.log(`Docker at ${dockerHost}: could not import busybox, skipped`);
  } else console.log('no Docker daemon running: the Docker comparison is skipped');
  const results: Record<string, { up: number; down: number }> = {};
  const present = tools.filter(([name, cmd, pre]) => {
    if (spawnSync(cmd, [...pre, 'version'], { stdio: 'ignore' }).status === 0) return true;
    console.log(`${name}: not installed, skipped`);
    return false;
  });
  // Rounds interleave the tools, so a change in the machine's load falls on all of them.
  const ups = new Map<string, number[]>(present.map(([name]) => [name, []]));
  const downs = new Map<string, number[]>(present.map(([name]) => [name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, cmd, pre, host] of present) {
      ups.get(name)!.push(timed(cmd, [...pre, 'up', '-d'], host));
      downs.get(name)!.push(timed(cmd, [...pre, 'down', '-t', '1'], host));
    }
  }
  for (const [name] of present)
    results[name] = { up: median(ups.get(name)!), down: median(downs.get(name)!) };
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
