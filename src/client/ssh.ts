// The ssh:// transport, as the docker CLI's connection helper does it (cli/connhelper): each
// connection is a `ssh ... -- host <remote command>` process whose stdin/stdout carry the HTTP
// bytes, and the far side's `system dial-stdio` joins them to its daemon socket. The system ssh
// is used on purpose: the user's ~/.ssh/config, agent, known hosts and jump hosts all apply.
import type { ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { IdleConnections, WireTarget } from './wire.ts';

/** An ssh:// daemon host: ssh://[user@]host[:port][/path/to/remote.sock]. */
export interface SshEndpoint {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
  /** The daemon socket on the far side; empty for the far side's default. */
  readonly socketPath: string;
}

/**
 * The program run on the far side. Unset: `berth` where the remote PATH has it, else `docker`
 * (both implement `system dial-stdio` over the same raw-socket protocol), so one URL works against
 * a Berth host and a Docker host alike. Set it to force one program (a name or an absolute path).
 */
export const REMOTE_COMMAND_ENV = 'BERTH_SSH_REMOTE_CMD';

/** Parses an ssh:// host with docker's rules: no password, query or fragment; a host is required. */
export function parseSshHost(spec: string): SshEndpoint {
  let u: URL;
  try {
    u = new URL(spec);
  } catch {
    throw new Error(`invalid SSH URL "${spec}": use ssh://[user@]host[:port][/path/to/socket]`);
  }
  const bad = (why: string) =>
    new Error(`invalid SSH URL "${spec}": ${why} (use ssh://[user@]host[:port][/path/to/socket])`);
  if (u.password) throw bad('plain-text password is not supported; use keys or an ssh agent');
  if (u.search) throw bad(`query parameters are not allowed: "${u.search.slice(1)}"`);
  if (u.hash) throw bad(`fragments are not allowed: "${u.hash.slice(1)}"`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw bad('hostname is empty');
  // ssh gets user and host as arguments, after `--`: still refuse anything that could read as an
  // option or carry shell syntax into ssh's own command line handling.
  if (!/^[A-Za-z0-9_.:%-]+$/.test(host) || host.startsWith('-')) throw bad(`invalid host "${host}"`);
  const user = decodeURIComponent(u.username);
  if (user && (!/^[A-Za-z0-9_.@-]+$/.test(user) || user.startsWith('-'))) throw bad(`invalid user "${user}"`);
  const path = decodeURIComponent(u.pathname);
  return {
    ...(user ? { user } : {}),
    host,
    ...(u.port ? { port: Number(u.port) } : {}),
    socketPath: path.replace(/^\/+$/, ''),
  };
}

/** POSIX shell quoting for the remote command (ssh hands it to the far side's shell). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** The command line the far side runs: `<program> [--host=unix://path] system dial-stdio`. */
export function remoteCommand(ep: SshEndpoint, env: NodeJS.ProcessEnv): string {
  const args = [...(ep.socketPath ? [`--host=unix://${ep.socketPath}`] : []), 'system', 'dial-stdio'];
  const tail = args.map(shellQuote).join(' ');
  const forced = env[REMOTE_COMMAND_ENV];
  if (forced) return `${shellQuote(forced)} ${tail}`;
  return [
    `if command -v berth >/dev/null 2>&1; then exec berth ${tail};`,
    `elif command -v docker >/dev/null 2>&1; then exec docker ${tail};`,
    `else echo "neither berth nor docker is on the PATH of the remote shell (install one there, or set ${REMOTE_COMMAND_ENV} to its absolute path)" >&2; exit 127; fi`,
  ].join(' ');
}

/** The ssh arguments, as docker builds them: a connect timeout, no pty, then `-- host command`. */
export function sshArgs(ep: SshEndpoint, env: NodeJS.ProcessEnv): string[] {
  return [
    '-o',
    'ConnectTimeout=30',
    '-T',
    ...(ep.user ? ['-l', ep.user] : []),
    ...(ep.port ? ['-p', String(ep.port)] : []),
    '--',
    ep.host,
    remoteCommand(ep, env),
  ];
}

/** ssh could not start, or ended before the daemon sent a byte: with ssh's exit status and stderr. */
export class SshError extends Error {
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(message: string, exitCode: number | null, stderr: string) {
    super(message);
    this.name = 'SshError';
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

const requireBuiltin = (id: string): unknown =>
  (process as unknown as { getBuiltinModule(id: string): unknown }).getBuiltinModule(id);

/**
 * A target whose connections are ssh processes, kept open between the sequential requests of
 * one command (each new one costs a login and a remote process start, ~0.7 s): the docker CLI
 * likewise keeps one connection per command. Idle ones do not hold the CLI open, and are ended
 * when it exits.
 */
export function sshTarget(ep: SshEndpoint, env: NodeJS.ProcessEnv = process.env): WireTarget {
  const args = sshArgs(ep, env);
  return { open: () => ({ stream: new SshStream(args, env), ready: 'connect' }), idle: new IdleSsh() };
}

/** Idle ssh connections; one whose ssh ends or that sends unasked-for bytes is dropped. */
class IdleSsh implements IdleConnections {
  readonly #idle = new Map<SshStream, () => void>();

  take(): Duplex | undefined {
    for (const [stream, drop] of this.#idle) {
      this.#idle.delete(stream);
      stream.off('end', drop).off('close', drop).off('error', drop).off('data', drop);
      if (stream.destroyed || stream.readableEnded) continue;
      stream.busy();
      return stream;
    }
    return undefined;
  }

  give(stream: Duplex): void {
    if (!(stream instanceof SshStream)) {
      stream.destroy();
      return;
    }
    const drop = () => {
      this.#idle.delete(stream);
      stream.destroy();
    };
    stream.on('end', drop).on('close', drop).on('error', drop).on('data', drop);
    this.#idle.set(stream, drop);
    stream.idle();
  }
}

/** ssh children still running: ended with the CLI, so none outlives the command. */
const live = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('close', () => live.delete(child));
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  });
}

/** stderr kept for error messages: the last few KiB are enough for ssh's reasons. */
const STDERR_KEEP = 8192;

/**
 * One ssh process as a duplex byte stream. Ending the writable side closes ssh's stdin (ssh
 * forwards the EOF, the far side half-closes its daemon socket); ssh's stdout ending ends the
 * readable side, or fails it with ssh's reason when nothing came back at all.
 */
class SshStream extends Duplex {
  readonly #child: ChildProcess;
  #stderr = '';
  #received = false;
  #closed: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    super({ allowHalfOpen: true });
    const cp = requireBuiltin('node:child_process') as typeof import('node:child_process');
    const child = cp.spawn('ssh', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    track(child);
    this.#closed = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    child.once('spawn', () => this.emit('connect'));
    child.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ENOENT'
          ? 'ssh was not found on PATH: install the OpenSSH client (Debian: openssh-client) to use ssh:// hosts'
          : `could not run ssh: ${err.message}`;
      this.destroy(new SshError(why, null, ''));
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.#stderr = (this.#stderr + s).slice(-STDERR_KEEP);
    });
    child.stdin!.on('error', () => {
      // EPIPE once ssh is gone: its exit status and stderr tell why (reported from 'end').
    });
    child.stdout!.on('data', (c: Buffer) => {
      this.#received = true;
      if (!this.push(c)) child.stdout!.pause();
    });
    child.stdout!.once('end', () => void this.#ended());
  }

  async #ended(): Promise<void> {
    if (this.#received) {
      this.push(null);
      return;
    }
    // Nothing came back: why ssh stopped is in its status and stderr (bounded: a wedged ssh
    // that closed its stdout but never exits still gets reported).
    const code = await Promise.race([
      this.#closed,
      new Promise<'timeout'>((r) => setTimeout(r, 10_000, 'timeout').unref()),
    ]);
    if (code === 0) {
      this.push(null);
      return;
    }
    const stderr = this.#stderr.trim();
    const status = code === 'timeout' ? 'closed its output but did not exit' : `exited with status ${code}`;
    this.destroy(
      new SshError(
        `ssh ${status}${stderr ? `: ${stderr}` : ' without a message'}`,
        code === 'timeout' ? null : code,
        stderr,
      ),
    );
  }

  override _read(): void {
    this.#child.stdout?.resume();
  }

  /** Kept between requests: the idle ssh must not keep the CLI's event loop alive. */
  idle(): void {
    this.#refs('unref');
  }

  busy(): void {
    this.#refs('ref');
  }

  #refs(how: 'ref' | 'unref'): void {
    const c = this.#child;
    c[how]();
    for (const pipe of [c.stdin, c.stdout, c.stderr])
      (pipe as unknown as { [k: string]: (() => void) | undefined } | null)?.[how]?.();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const stdin = this.#child.stdin!;
    if (stdin.destroyed || stdin.write(chunk)) cb();
    else stdin.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#child.stdin!.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Like docker's commandconn: a connection given up on ends its ssh (SIGTERM; ssh forwards
    // nothing more and the far side's dial-stdio ends with the session).
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    this.#child.stdout?.destroy();
    this.#child.stdin?.destroy();
    cb(err);
  }
}
