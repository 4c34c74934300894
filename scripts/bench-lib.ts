// What the benches share: a berthd of their own with busybox imported and the client
// environment that reaches it, medians, wall times of one command, and the "run as a script,
// building first unless --no-build" entry (npm run bench builds once and passes --no-build).
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { startTestDaemon, type TestDaemon, type TestDaemonOptions } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const BERTH = path.join(ROOT, 'bin/berth');

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wall time in ms of one command (its output thrown away; `env` added to this process's). */
export function timed(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs?: number,
): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 30,
    ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return performance.now() - t;
}

export interface BenchDaemon {
  readonly d: TestDaemon;
  /** DOCKER_HOST, BERTH_HOST and a private DOCKER_CONFIG for this berthd (add process.env). */
  readonly env: Record<string, string>;
}

/** A berthd for one bench with `busybox:latest` imported (`importArgs` go before the tarball). */
export async function startBenchDaemon(
  opts: TestDaemonOptions & { importArgs?: readonly string[] } = {},
): Promise<BenchDaemon> {
  const { importArgs = [], ...daemonOpts } = opts;
  const d = await startTestDaemon(daemonOpts);
  const env = { DOCKER_HOST: d.host, BERTH_HOST: d.host, DOCKER_CONFIG: path.join(d.dir, 'docker-config') };
  try {
    execFileSync(BERTH, ['import', ...importArgs, busyboxTar(), 'busybox:latest'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
  } catch (err) {
    await d.cleanup();
    throw err;
  }
  return { d, env };
}

/** Runs `main` when `meta`'s file is the script node was started with; builds first unless --no-build. */
export async function runAsScript(meta: ImportMeta, main: () => Promise<void>): Promise<void> {
  if (meta.url !== `file://${process.argv[1]}`) return;
  if (!process.argv.includes('--no-build'))
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  await main();
}
