// Exec with a terminal in a CRI container: runc hands out a pty master only when it detaches
// (`runc exec -d -t --console-socket`), over SCM_RIGHTS, which Node cannot receive; so, as
// `docker exec -t` does (containers/exec.ts), berth-console-relay runs runc, receives the
// master, relays it to its own stdio and reports the process's pid and exit on fd 3 (and takes
// "ROWS COLS" resizes there). The process is the container's own (its config.json process) with
// another argv and a terminal; TERM=xterm is added when unset, as containerd does.
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { type Duplex, PassThrough } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { randomId } from '../../base/ids.ts';
import { RuncErrorFilter } from '../../containers/exec-failure.ts';
import type { ExecProcess } from '../container-exec.ts';
import type { CriContainers } from '../containers.ts';
import { CriError } from '../errors.ts';

export async function execTtyProcess(
  containers: CriContainers,
  ref: string,
  cmd: readonly string[],
  consoleRelay: string,
  opts: { stdin: boolean },
): Promise<ExecProcess & { resize: (rows: number, cols: number) => void }> {
  if (cmd.length === 0) throw new CriError(status.INVALID_ARGUMENT, 'cmd: must not be empty');
  const rec = await containers.get(ref);
  if (rec.state.status !== 'running')
    throw new CriError(
      status.FAILED_PRECONDITION,
      `container ${rec.id} is not running (${rec.state.status})`,
    );
  const { runtime } = containers.d;
  const spec = JSON.parse(
    await fsp.readFile(path.join(containers.paths(rec.id).bundle, 'config.json'), 'utf8'),
  ) as {
    process: { env?: string[] } & Record<string, unknown>;
  };
  const env = spec.process.env ?? [];
  const tag = randomId().slice(0, 16);
  const dir = runtime.opts.socketDir;
  const processFile = path.join(dir, `cri-t-${tag}.json`);
  const pidFile = path.join(dir, `cri-t-${tag}.pid`);
  const socket = path.join(dir, `cri-t-${tag}.sock`);
  await fsp.writeFile(
    processFile,
    JSON.stringify({
      ...spec.process,
      terminal: true,
      args: [...cmd],
      env: env.some((e) => e.startsWith('TERM=')) ? env : [...env, 'TERM=xterm'],
    }),
    { mode: 0o600 },
  );
  const rt = runtime.runtimeFor(rec.id);
  const relay = spawn(
    consoleRelay,
    [
      socket,
      '0',
      '0',
      pidFile,
      rt.path,
      ...rt.args,
      '--root',
      rt.root,
      'exec',
      '--process',
      processFile,
      '--detach',
      '--tty',
      '--console-socket',
      socket,
      '--pid-file',
      pidFile,
      rec.id,
    ],
    { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] },
  );
  // With a terminal the process has one output stream; stderr carries runc's own failure only.
  const stderr = new PassThrough();
  const filter = new RuncErrorFilter(() => {});
  relay.stderr?.on('data', (d: Buffer) => filter.write(d));
  relay.stdin?.on('error', () => {});
  const ctl = relay.stdio[3] as Duplex;
  ctl.on('error', () => {});
  let code = 126;
  let pid = 0;
  let lines = '';
  ctl.on('data', (d: Buffer) => {
    lines += d.toString();
    for (let nl = lines.indexOf('\n'); nl !== -1; nl = lines.indexOf('\n')) {
      const [what, n] = lines.slice(0, nl).split(' ');
      lines = lines.slice(nl + 1);
      if (what === 'pid') pid = Number(n);
      else if (what === 'exit') code = Number(n);
      else if (what === 'fail') code = Number(n) === 255 ? 255 : 126;
    }
  });
  const done = new Promise<{ exitCode: number; failure?: string }>((resolve) => {
    const finish = () => {
      const failure = filter.finish(code);
      stderr.end();
      void fsp.rm(processFile, { force: true });
      void fsp.rm(pidFile, { force: true });
      void fsp.rm(socket, { force: true });
      resolve({ exitCode: code, ...(failure !== undefined ? { failure } : {}) });
    };
    relay.on('error', finish);
    relay.on('close', finish);
  });
  return {
    ...(opts.stdin && relay.stdin ? { stdin: relay.stdin } : {}),
    stdout: relay.stdout as NonNullable<typeof relay.stdout>,
    stderr,
    done,
    kill: () => {
      if (pid > 1) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      relay.kill('SIGKILL');
    },
    resize: (rows, cols) => {
      if (rows > 0 && cols > 0) ctl.write(`${rows} ${cols}\n`);
    },
  };
}
