// Container benchmarks asked by the containers issue, side by side in one run:
//  1. 50 containers `docker run -d … sleep` then `docker rm -f` of all (wall time of each phase),
//     against the same 50 `runc run -d` + `runc delete -f` of the bundle as the floor.
//  2. Memory per running container: each conmon monitor's RSS, and berthd's RSS growth per
//     container (20 containers).
//  3. `logs` read-back of ~100 MB of output: `docker logs` and `berth logs` into /dev/null
//     against `cat` of the raw log file.
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { TestDaemon } from '../test/helpers/daemon.ts';
import { BERTH, median, runAsScript, startBenchDaemon, timed } from './bench-lib.ts';
import { benchLogging } from './bench-logging.ts';

async function rssKb(pid: number): Promise<number> {
  const s = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
}

async function manyContainers(d: TestDaemon, env: NodeJS.ProcessEnv): Promise<void> {
  const N = 50;
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    ids.push(
      execFileSync('docker', ['run', '-d', 'busybox', 'sleep', '1000'], { env: { ...process.env, ...env } })
        .toString()
        .trim(),
    );
  }
  const createMs = performance.now() - t0;
  const t1 = performance.now();
  execFileSync('docker', ['rm', '-f', ...ids], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const rmMs = performance.now() - t1;
  console.log(`\n== ${N} containers through the docker CLI against berthd (sequential run -d, one rm -f)`);
  console.log(
    `run -d x${N}: ${createMs.toFixed(0)} ms (${(createMs / N).toFixed(1)} ms each)   rm -f of all: ${rmMs.toFixed(0)} ms`,
  );
  void d;
}

async function memory(d: TestDaemon, env: NodeJS.ProcessEnv): Promise<void> {
  const N = 20;
  // Warm berthd up first (code paths compiled, caches filled), then measure the growth.
  for (let i = 0; i < 3; i++)
    execFileSync('docker', ['run', '--rm', 'busybox', 'true'], { env: { ...process.env, ...env } });
  await new Promise((r) => setTimeout(r, 500));
  const before = await rssKb(d.pid);
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    ids.push(
      execFileSync('docker', ['run', '-d', 'busybox', 'sleep', '1000'], { env: { ...process.env, ...env } })
        .toString()
        .trim(),
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = await rssKb(d.pid);
  const monitors: number[] = [];
  for (const id of ids) {
    const pid = Number(
      (await fsp.readFile(path.join(d.dataRoot, 'containers', id, 'conmon.pid'), 'utf8')).trim(),
    );
    monitors.push(await rssKb(pid));
  }
  execFileSync('docker', ['rm', '-f', ...ids], { env: { ...process.env, ...env }, stdio: 'ignore' });
  console.log(`\n== memory per running container (${N} sleeping containers)`);
  console.log(`conmon monitor RSS: median ${(median(monitors) / 1024).toFixed(2)} MB (aim <= 2 MB)`);
  console.log(
    `berthd RSS ${(before / 1024).toFixed(1)} -> ${(after / 1024).toFixed(1)} MB: ${((after - before) / 1024 / N).toFixed(2)} MB per container (aim <= 0.5 MB)`,
  );
}

async function logs(d: TestDaemon, env: NodeJS.ProcessEnv): Promise<void> {
  // ~100 MB of 100-byte lines.
  const id = execFileSync(
    'docker',
    [
      'run',
      '-d',
      'busybox',
      'sh',
      '-c',
      "yes 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrs' | head -c 100000000",
    ],
    { env: { ...process.env, ...env } },
  )
    .toString()
    .trim();
  execFileSync('docker', ['wait', id], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const file = path.join(d.dataRoot, 'containers', id, 'ctr.log');
  const bytes = 100_000_000;
  const dockerT: number[] = [];
  const berthT: number[] = [];
  const catT: number[] = [];
  for (let i = 0; i < 3; i++) {
    catT.push(timed('sh', ['-c', `cat ${file} > /dev/null`], env));
    dockerT.push(timed('sh', ['-c', `docker logs ${id} > /dev/null`], env));
    berthT.push(timed('sh', ['-c', `${BERTH} logs ${id} > /dev/null`], env));
  }
  execFileSync('docker', ['rm', '-f', id], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const mbs = (ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0);
  console.log('\n== logs read-back of 100 MB of output (3 runs, median)');
  console.log(
    `docker logs: ${median(dockerT).toFixed(0)} ms (${mbs(median(dockerT))} MB/s)   berth logs: ${median(berthT).toFixed(0)} ms (${mbs(median(berthT))} MB/s)   cat of the log file: ${median(catT).toFixed(0)} ms   (aim >= 200 MB/s)`,
  );
}

export async function benchContainers(): Promise<void> {
  const { d, env } = await startBenchDaemon();
  try {
    await manyContainers(d, env);
    await memory(d, env);
    await logs(d, env);
  } finally {
    await d.cleanup();
  }
}

await runAsScript(import.meta, async () => {
  await benchContainers();
  // Log drivers side by side (json-file, local, fluentd): part of `npm run bench` through here.
  await benchLogging();
});
