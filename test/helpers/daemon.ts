// Test harness: a real berthd (the bundled dist/berthd.mjs) on a temporary socket and data
// root, and helpers that drive it with the berth CLI, the real docker CLI and HTTP.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, promises as fsp, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const BERTHD = path.join(ROOT, 'dist/berthd.mjs');
const BERTH = path.join(ROOT, 'bin/berth');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestDaemon {
  readonly dir: string;
  readonly dataRoot: string;
  readonly socket: string;
  readonly host: string;
  readonly pid: number;
  /** This daemon's default bridge device (unique per test daemon). */
  readonly bridge: string;
  /**
   * A byte unique to this daemon among running test daemons: its default bridge is
   * 10.199.N.0/24; tests may use 10.198.N.0/24 and 10.197.N.0/24 for networks they create.
   */
  readonly netByte: number;
  readonly logs: () => string;
  berth(args: string[], opts?: RunOpts): Promise<RunResult>;
  docker(args: string[], opts?: RunOpts): Promise<RunResult>;
  request(
    method: string,
    urlPath: string,
    body?: Buffer | string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>;
  /** SIGTERM and wait; keeps the data root for a restart. */
  stop(): Promise<number | null>;
  /** SIGKILL without any cleanup, like a crash. */
  kill9(): Promise<void>;
  /** Starts a new berthd on the same data root and socket (with `env` added to its environment). */
  restart(opts?: { env?: Record<string, string> }): Promise<TestDaemon>;
  /** Resolves with the exit code (null when killed by a signal) once this berthd has exited. */
  readonly exited: Promise<number | null>;
  /** Stops the daemon (if running) and removes every file the test made. */
  cleanup(): Promise<void>;
}

export interface RunOpts {
  input?: Buffer | string;
  inputFile?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export function run(cmd: string, args: string[], opts: RunOpts = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...(opts.env ?? {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {});
    if (opts.inputFile) {
      void fsp.readFile(opts.inputFile).then((b) => child.stdin.end(b));
    } else child.stdin.end(opts.input ?? '');
  });
}

function httpRequest(
  socket: string,
  method: string,
  urlPath: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socket, method, path: urlPath, headers: { Host: 'berth', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`timeout: ${method} ${urlPath}`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function waitReady(socket: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`berthd exited with ${child.exitCode}:\n${logs()}`);
    try {
      const r = await httpRequest(socket, 'GET', '/_ping');
      if (r.status === 200) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`berthd did not answer on ${socket} within 20s:\n${logs()}`);
}

/** How berthd is started: which program, and the flags a test replaces (see TestDaemonOptions). */
interface LaunchOpts {
  readonly env?: Record<string, string>;
  readonly command?: readonly string[];
  readonly listen?: string;
  readonly logLevelFlag?: boolean;
  readonly extraArgs?: readonly string[];
}

async function launch(dir: string, launchOpts: LaunchOpts = {}): Promise<TestDaemon> {
  const extraEnv = launchOpts.env ?? {};
  const dataRoot = path.join(dir, 'data');
  const execRoot = path.join(dir, 'exec');
  const socket = path.join(dir, 'berth.sock');
  const host = `unix://${socket}`;
  const configFile = path.join(dir, 'daemon.json');
  const dockerConfig = path.join(dir, 'docker-config');
  const { bridge, netByte } = await networkOf(dir);
  await fsp.mkdir(dockerConfig, { recursive: true });
  try {
    await fsp.access(configFile);
  } catch {
    writeFileSync(configFile, '{}\n');
  }
  const [cmd, ...cmdArgs] = launchOpts.command ?? [process.execPath, BERTHD];
  const child = spawn(
    cmd!,
    [
      ...cmdArgs,
      '--data-root',
      dataRoot,
      '--exec-root',
      execRoot,
      '-H',
      launchOpts.listen ?? host,
      '--config-file',
      configFile,
      ...(launchOpts.logLevelFlag === false ? [] : ['--log-level', 'debug']),
      '--cgroup-parent',
      cgroupParentOf(dir),
      '--bridge',
      bridge,
      '--bip',
      `10.199.${netByte}.1/24`,
      ...(launchOpts.extraArgs ?? []),
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(Object.keys(extraEnv).length > 0 ? { env: { ...process.env, ...extraEnv } } : {}),
    },
  );
  let logText = '';
  child.stderr!.on('data', (c: Buffer) => {
    logText += c.toString('utf8');
    if (logText.length > 2_000_000) logText = logText.slice(-1_000_000);
  });
  const logs = () => logText;
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await waitReady(socket, child, logs);
  const env = { DOCKER_HOST: host, DOCKER_CONFIG: dockerConfig, BERTH_HOST: host };
  let running = true;
  const d: TestDaemon = {
    dir,
    dataRoot,
    socket,
    host,
    pid: child.pid!,
    bridge,
    netByte,
    logs,
    exited,
    berth: (args, opts = {}) => run(BERTH, args, { ...opts, env: { ...env, ...(opts.env ?? {}) } }),
    docker: (args, opts = {}) => run('docker', args, { ...opts, env: { ...env, ...(opts.env ?? {}) } }),
    request: (method, urlPath, body, headers) => httpRequest(socket, method, urlPath, body, headers),
    stop: async () => {
      if (!running) return null;
      running = false;
      child.kill('SIGTERM');
      return exited;
    },
    kill9: async () => {
      if (!running) return;
      running = false;
      child.kill('SIGKILL');
      await exited;
    },
    restart: async (opts = {}) => {
      if (running) await d.stop();
      // The environment is the restart's own (a crash point must not fire again); the rest stays.
      const { env: _first, ...kept } = launchOpts;
      return launch(dir, { ...kept, ...(opts.env ? { env: opts.env } : {}) });
    },
    cleanup: async () => {
      if (running) {
        running = false;
        child.kill('SIGKILL');
        await exited;
      }
      await reapLeftovers(dir);
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
  return d;
}

/**
 * Stops whatever this test's daemon left behind, even after a failure: containers in its runc
 * root, their conmon monitors (found by this test's directory in their command line, never by
 * name alone) and overlay mounts under the test directory.
 */
async function reapLeftovers(dir: string): Promise<void> {
  // runc's own root, and the roots of other runtimes named in daemon.json (all runc-compatible
  // CLIs in these tests).
  const others = await fsp.readdir(path.join(dir, 'exec', 'runtimes')).catch(() => [] as string[]);
  for (const runcRoot of [
    path.join(dir, 'exec', 'runc'),
    ...others.map((n) => path.join(dir, 'exec', 'runtimes', n)),
  ]) {
    const list = await run('runc', ['--root', runcRoot, 'list', '-q']).catch(() => undefined);
    for (const id of list?.stdout.split('\n').filter(Boolean) ?? []) {
      await run('runc', ['--root', runcRoot, 'kill', id, 'KILL']).catch(() => {});
      await run('runc', ['--root', runcRoot, 'delete', '-f', id]).catch(() => {});
    }
  }
  for (const pid of await fsp.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.startsWith('conmon\0') || cmd.includes('/conmon\0')) {
      if (cmd.includes(dir)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
  const mounts = (await fsp.readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]).catch(() => {});
  await removeNetworkLeftovers(dir);
  // This test's own cgroup parent, in every hierarchy (runc removed the containers' cgroups).
  for (const h of await fsp.readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    await fsp.rmdir(path.join('/sys/fs/cgroup', h, cgroupParentOf(dir))).catch(() => {});
  }
}

/**
 * This test daemon's default bridge name and subnet byte, chosen once per test directory so a
 * restart keeps them: the bridge is named after the directory, the byte avoids every 10.199.x
 * route on the host (other test daemons running right now).
 */
async function networkOf(dir: string): Promise<{ bridge: string; netByte: number }> {
  const file = path.join(dir, 'network.json');
  const saved = await fsp.readFile(file, 'utf8').catch(() => '');
  if (saved) return JSON.parse(saved) as { bridge: string; netByte: number };
  const bridge = `bt-${path
    .basename(dir)
    .replace(/^berth-test-/, '')
    .replace(/[^a-zA-Z0-9]/g, '')
    .slice(0, 8)}`;
  const routes = (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  const usedBytes = new Set([...routes.matchAll(/10\.19[789]\.(\d+)\./g)].map((m) => Number(m[1])));
  const free = [...Array(254).keys()].map((i) => i + 1).filter((b) => !usedBytes.has(b));
  const netByte = free[Math.floor(Math.random() * free.length)]!;
  await fsp.writeFile(file, JSON.stringify({ bridge, netByte }));
  return { bridge, netByte };
}

/**
 * Removes this daemon's bridges (the default one and those in its network records), veths on
 * them, and its own iptables chains (BERTH-*-<bridge>) with the jumps to them; nothing else.
 */
async function removeNetworkLeftovers(dir: string): Promise<void> {
  const saved = await fsp.readFile(path.join(dir, 'network.json'), 'utf8').catch(() => '');
  if (!saved) return;
  const { bridge } = JSON.parse(saved) as { bridge: string };
  const bridges = new Set([bridge]);
  const netDir = path.join(dir, 'data', 'network');
  for (const f of await fsp.readdir(netDir).catch(() => [] as string[])) {
    const rec = JSON.parse(await fsp.readFile(path.join(netDir, f), 'utf8').catch(() => '{}')) as {
      bridge?: string;
    };
    if (rec.bridge) bridges.add(rec.bridge);
  }
  for (const br of bridges) {
    for (const port of await fsp.readdir(`/sys/class/net/${br}/brif`).catch(() => [] as string[]))
      await run('ip', ['link', 'del', port]);
    await run('ip', ['link', 'del', br]);
  }
  // Jumps into this daemon's chains (BERTH-*-<bridge>) from built-in chains, then the chains.
  const save = (await run('iptables-save', [])).stdout;
  let table = '';
  const chains = new Set<string>();
  const mine = (c: string) => /^BERTH-[A-Z]+-/.test(c) && c.endsWith(`-${bridge}`);
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    const decl = /^:(\S+)/.exec(line);
    if (decl && mine(decl[1]!)) chains.add(`${table} ${decl[1]}`);
    const jump = /^-A (\S+) (.*)-j (\S+)\s*$/.exec(line);
    if (jump && mine(jump[3]!) && !mine(jump[1]!)) {
      await run('iptables', [
        '-w',
        '5',
        '-t',
        table,
        '-D',
        jump[1]!,
        ...jump[2]!.trim().split(/\s+/).filter(Boolean),
        '-j',
        jump[3]!,
      ]);
    }
  }
  for (const tc of chains) {
    const [t, c] = tc.split(' ') as [string, string];
    await run('iptables', ['-w', '5', '-t', t, '-F', c]);
    await run('iptables', ['-w', '5', '-t', t, '-X', c]);
  }
}

/** A cgroup parent unique to one test daemon, so cleanup never touches another's. */
function cgroupParentOf(dir: string): string {
  return `/berth-test-${path.basename(dir).replace(/^berth-test-/, '')}`;
}

/** Starts a fresh berthd in a new temporary directory. */
export interface TestDaemonOptions {
  /** Contents of the daemon's daemon.json (default `{}`). */
  readonly config?: Record<string, unknown>;
  /**
   * Runs before berthd starts, with the test's directory (the data root will be `<dir>/data`),
   * e.g. to mount a small tmpfs there. Mounts below the directory are undone by cleanup().
   */
  readonly prepare?: (dir: string) => Promise<void>;
  /** Added to berthd's environment (e.g. BERTH_CRASH_AT for crash-point tests). */
  readonly env?: Record<string, string>;
  /** The program and its first arguments (default: node dist/berthd.mjs), e.g. an installed berthd. */
  readonly command?: readonly string[];
  /** The -H value (default unix://<dir>/berth.sock); the socket at <dir>/berth.sock is still pinged. */
  readonly listen?: string;
  /** false: no --log-level flag, so daemon.json may set log-level and debug. */
  readonly logLevelFlag?: boolean;
  /** More berthd flags after the usual ones, e.g. a second -H and --tlsverify. */
  readonly extraArgs?: readonly string[];
}

export async function startTestDaemon(opts: TestDaemonOptions = {}): Promise<TestDaemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-test-'));
  if (opts.config) writeFileSync(path.join(dir, 'daemon.json'), `${JSON.stringify(opts.config)}\n`);
  try {
    await opts.prepare?.(dir);
    return await launch(dir, {
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.command ? { command: opts.command } : {}),
      ...(opts.listen ? { listen: opts.listen } : {}),
      ...(opts.logLevelFlag === false ? { logLevelFlag: false } : {}),
      ...(opts.extraArgs ? { extraArgs: opts.extraArgs } : {}),
    });
  } catch (err) {
    for (const l of (await fsp.readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
      const m = l.split(' ')[4] ?? '';
      if (m.startsWith(`${dir}/`)) await run('umount', ['-l', m]).catch(() => {});
    }
    await fsp.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export function berthCli(args: string[], opts: RunOpts = {}): Promise<RunResult> {
  return run(BERTH, args, opts);
}
