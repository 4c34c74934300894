// berth over ssh:// against the unix socket (issue 21), side by side against one berthd: a
// private Debian sshd on a loopback port in a temp dir (its own host key and one authorized key,
// as test/e2e/remote-ssh.test.ts sets it up; nothing of the machine's ssh set-up is used), then
// `berth version`, `berth ps -a` and `berth run --rm busybox true` over each, medians of N runs
// alternating, and the ssh/unix ratio. A row for the bare `ssh host true` shows the login floor.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BERTH = path.join(ROOT, 'bin/berth');
const RUNS = Number(process.env.BENCH_SSH_RUNS ?? 9);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return performance.now() - t;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** sshd on 127.0.0.1:port whose sessions get DOCKER_HOST = the daemon socket and berth on PATH. */
async function startSshd(dir: string, port: number, socket: string): Promise<ChildProcess> {
  for (const k of ['host_key', 'client_key'])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, k)]);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(path.join(dir, 'client_key.pub')));
  writeFileSync(
    path.join(dir, 'known_hosts'),
    `[127.0.0.1]:${port} ${readFileSync(path.join(dir, 'host_key.pub'), 'utf8')}`,
  );
  writeFileSync(
    path.join(dir, 'ssh_config'),
    [
      'Host *',
      `  IdentityFile ${path.join(dir, 'client_key')}`,
      '  IdentitiesOnly yes',
      '  IdentityAgent none',
      `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );
  const bin = (name: string, body: string) => {
    writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(dir, name), 0o755);
  };
  mkdirSync(path.join(dir, 'client-bin'));
  mkdirSync(path.join(dir, 'bin'));
  bin('client-bin/ssh', `exec /usr/bin/ssh -F ${path.join(dir, 'ssh_config')} "$@"`);
  bin('bin/berth', `exec ${BERTH} "$@"`);
  writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_key')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      `SetEnv PATH=${path.join(dir, 'bin')}:/usr/bin:/bin DOCKER_HOST=unix://${socket}`,
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start within 10 s:\n${log}`)), 10_000);
    child.stderr!.on('data', (s: string) => {
      log += s;
      if (log.includes('Server listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code}:\n${log}`));
    });
  });
  child.stderr!.resume();
  return child;
}

async function stopSshd(child: ChildProcess): Promise<void> {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
}

export async function benchSsh(): Promise<void> {
  const d = await startTestDaemon({ logLevelFlag: false });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-ssh-'));
  let sshd: ChildProcess | undefined;
  try {
    const port = await freePort();
    sshd = await startSshd(dir, port, d.socket);
    const url = `ssh://root@127.0.0.1:${port}`;
    const base = {
      ...process.env,
      DOCKER_CONFIG: path.join(dir, 'client-config'),
      DOCKER_CONTEXT: '',
      BERTH_HOST: '',
      BERTH_SSH_REMOTE_CMD: '',
      PATH: `${path.join(dir, 'client-bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    };
    const unixEnv = { ...base, DOCKER_HOST: d.host };
    const sshEnv = { ...base, DOCKER_HOST: url };
    execFileSync(BERTH, ['import', busyboxTar(), 'busybox:latest'], { env: unixEnv, stdio: 'ignore' });
    console.log(`\n== berth over ssh:// (sshd on 127.0.0.1:${port}) vs the unix socket, median of ${RUNS}`);
    const login: number[] = [];
    for (let i = 0; i < RUNS; i++)
      login.push(timed('ssh', ['-p', String(port), 'root@127.0.0.1', 'true'], base));
    console.log(`${'ssh login floor (ssh host true)'.padEnd(34)} ${median(login).toFixed(0).padStart(6)} ms`);
    for (const args of [['version'], ['ps', '-a'], ['run', '--rm', 'busybox', 'true']]) {
      timed(BERTH, args, unixEnv);
      timed(BERTH, args, sshEnv);
      const u: number[] = [];
      const s: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        u.push(timed(BERTH, args, unixEnv));
        s.push(timed(BERTH, args, sshEnv));
      }
      const mu = median(u);
      const ms = median(s);
      console.log(
        `${`berth ${args.join(' ')}`.padEnd(34)} unix: ${mu.toFixed(0).padStart(6)} ms   ssh: ${ms.toFixed(0).padStart(6)} ms   ssh/unix ${(ms / mu).toFixed(2)}x`,
      );
    }
  } finally {
    if (sshd) await stopSshd(sshd);
    await d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!process.argv.includes('--no-build'))
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  await benchSsh();
}
