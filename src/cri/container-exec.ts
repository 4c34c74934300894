// Processes run in a CRI container with `runc exec`: ExecSync (output collected, a timeout that
// kills the process and answers DEADLINE_EXCEEDED, as the kubelet's probes rely on) and
// execProcess, the streams the streaming server's Exec uses. The process is the container's
// own (its config.json process: user, capabilities, env, cwd, no_new_privs) with another argv.
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { randomId } from '../base/ids.ts';
import { RuncErrorFilter } from '../containers/exec-failure.ts';
import type { CriContainers } from './containers.ts';
import { CriError } from './errors.ts';

export interface ExecOptions {
  /** A pipe for the process's stdin (else /dev/null). */
  readonly stdin?: boolean;
  readonly tty?: boolean;
}

export interface ExecProcess {
  readonly stdin?: Writable;
  readonly stdout: Readable;
  /** The process's own stderr (runc's failure to start it is `done`'s `failure`). */
  readonly stderr: Readable;
  /** The exit code; `failure` is runc's message when the process could not start (a missing binary). */
  readonly done: Promise<{ exitCode: number; failure?: string }>;
  /** SIGKILL to the process (and to runc, should it not have started it yet). */
  kill(): void;
}

/** ExecSync output beyond this is cut (as containerd's 16 MiB cap), so a chatty probe cannot fill berthd. */
const MAX_OUTPUT = 16 << 20;

export async function execProcess(
  containers: CriContainers,
  ref: string,
  cmd: readonly string[],
  opts: ExecOptions = {},
): Promise<ExecProcess> {
  if (cmd.length === 0) throw new CriError(status.INVALID_ARGUMENT, 'cmd: must not be empty');
  if (opts.tty)
    throw new CriError(
      status.UNIMPLEMENTED,
      'tty: exec with a terminal is not supported by berthd CRI yet; run it without tty',
    );
  const rec = await containers.get(ref);
  if (rec.state.status !== 'running')
    throw new CriError(
      status.FAILED_PRECONDITION,
      `container ${rec.id} is not running (${rec.state.status})`,
    );
  const { runtime } = containers.d;
  const paths = containers.paths(rec.id);
  const spec = JSON.parse(await fsp.readFile(path.join(paths.bundle, 'config.json'), 'utf8')) as {
    process: Record<string, unknown>;
  };
  const tag = randomId().slice(0, 16);
  const processFile = path.join(runtime.opts.socketDir, `cri-x-${tag}.json`);
  const pidFile = path.join(runtime.opts.socketDir, `cri-x-${tag}.pid`);
  await fsp.writeFile(processFile, JSON.stringify({ ...spec.process, terminal: false, args: [...cmd] }), {
    mode: 0o600,
  });
  const rt = runtime.runtimeFor(rec.id);
  const child = spawn(
    rt.path,
    [...rt.args, '--root', rt.root, 'exec', '--process', processFile, '--pid-file', pidFile, rec.id],
    { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
  );
  const stderr = new PassThrough();
  const filter = new RuncErrorFilter((d) => stderr.write(d));
  child.stderr!.on('data', (d: Buffer) => filter.write(d));
  const done = new Promise<{ exitCode: number; failure?: string }>((resolve) => {
    let settled = false;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      const failure = filter.finish(code);
      stderr.end();
      void fsp.rm(processFile, { force: true });
      void fsp.rm(pidFile, { force: true });
      resolve({ exitCode: code, ...(failure !== undefined ? { failure } : {}) });
    };
    child.on('error', () => finish(126));
    child.on('close', (c, sig) => finish(c ?? 128 + (sig === 'SIGKILL' ? 9 : 15)));
    // A process that forked a child keeping the pipes open must not hold the answer: once runc
    // has exited, give the pipes a moment to drain, then finish.
    child.on('exit', (c, sig) => {
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(c ?? 128 + (sig === 'SIGKILL' ? 9 : 15));
      }, 250).unref();
    });
  });
  const kill = () => {
    void fsp
      .readFile(pidFile, 'utf8')
      .then((t) => {
        const pid = Number(t.trim());
        if (pid > 1) process.kill(pid, 'SIGKILL');
      })
      .catch(() => {})
      .finally(() => child.kill('SIGKILL'));
  };
  return {
    ...(child.stdin ? { stdin: child.stdin } : {}),
    stdout: child.stdout!,
    stderr,
    done,
    kill,
  };
}

/** ExecSync: the output and exit code; past `timeoutS` (0: none) the process is killed. */
export async function execSync(
  containers: CriContainers,
  ref: string,
  cmd: readonly string[],
  timeoutS: number,
  signal: AbortSignal,
): Promise<{ stdout: Buffer; stderr: Buffer; exit_code: number }> {
  const p = await execProcess(containers, ref, cmd);
  const collect = (s: Readable) => {
    const parts: Buffer[] = [];
    let n = 0;
    s.on('data', (d: Buffer) => {
      if (n >= MAX_OUTPUT) return;
      parts.push(d.subarray(0, MAX_OUTPUT - n));
      n += d.length;
    });
    return parts;
  };
  const out = collect(p.stdout);
  const err = collect(p.stderr);
  let timedOut = false;
  const timer =
    timeoutS > 0
      ? setTimeout(() => {
          timedOut = true;
          p.kill();
        }, timeoutS * 1000)
      : undefined;
  const onAbort = () => p.kill();
  signal.addEventListener('abort', onAbort);
  try {
    const { exitCode, failure } = await p.done;
    if (timedOut)
      throw new CriError(
        status.DEADLINE_EXCEEDED,
        `command "${cmd.join(' ')}" timed out after ${timeoutS}s and was killed`,
      );
    if (failure !== undefined)
      throw new CriError(status.UNKNOWN, `failed to exec in container: OCI runtime exec failed: ${failure}`);
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exit_code: exitCode };
  } finally {
    if (timer) clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
