// The per-container monitor: conmon runs `runc create`, holds the container's stdio, writes its
// output to the log file and its exit code to <exit-dir>/<id>, and outlives berthd. Berth talks
// to the OCI runtime through its standard CLI (start/kill/delete/state).
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants, type FSWatcher, promises as fsp, watch } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { awaitCreate, createFailure, timeoutError } from './create-wait.ts';
import { startThroughFifo } from './exec-fifo.ts';
import {
  ConflictError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
} from '../errdefs/index.ts';
import { getOwn } from '../base/own.ts';
import { span } from '../base/trace.ts';

const exec = promisify(execFile);

/**
 * The last-resort wait for conmon's answer. BERTH_CREATE_TIMEOUT_MS shortens it for tests of a
 * runtime that hangs; everything that ends earlier (conmon's answer, its death, an error in the
 * runtime's log) is noticed without it.
 */
function createTimeoutMs(): number {
  return envMs('BERTH_CREATE_TIMEOUT_MS', 30_000);
}

/** The bound on every other runtime call (start, kill, delete, state, ...); same test knob idea. */
function runtimeCallTimeoutMs(): number {
  return envMs('BERTH_RUNTIME_TIMEOUT_MS', 60_000);
}

function envMs(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export interface MonitorOptions {
  readonly conmonPath: string;
  readonly runtimePath: string;
  /** `--root` for the OCI runtime's own state. */
  readonly runtimeRoot: string;
  readonly exitDir: string;
  readonly socketDir: string;
  /**
   * Other OCI runtimes by name (daemon.json `runtimes`), each with its own state root beside
   * runc's. `runc` itself is `runtimePath`/`runtimeRoot`.
   */
  readonly runtimes?: Readonly<Record<string, { path: string; runtimeArgs?: readonly string[] }>>;
  /** Used when a container names none (daemon.json `default-runtime`). */
  readonly defaultRuntime?: string;
}

/** The runtime binary and state root a container uses. */
export interface RuntimeBinding {
  readonly name: string;
  readonly path: string;
  readonly root: string;
  readonly args: readonly string[];
}

export interface CreateOptions {
  readonly id: string;
  readonly name: string;
  readonly bundle: string;
  /** The k8s-file log conmon writes; absent: none (`-l none`), output reaches attach sockets only. */
  readonly logPath?: string;
  readonly logSizeMax?: number;
  readonly terminal?: boolean;
  readonly stdin?: boolean;
  /** Keep the container's stdin open when an attached client disconnects. */
  readonly leaveStdinOpen?: boolean;
  /** Named OCI runtime (default runc). */
  readonly runtime?: string;
}

export interface RuntimeState {
  readonly status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  readonly pid: number;
}

export class ConmonRuntime {
  readonly opts: MonitorOptions;
  #watcher: FSWatcher | undefined;
  readonly #bindings = new Map<string, RuntimeBinding>();
  /** The process of each container created and not started yet (for the exec-fifo start). */
  readonly #createdPids = new Map<string, number>();

  constructor(opts: MonitorOptions) {
    this.opts = opts;
  }

  static async open(opts: MonitorOptions): Promise<ConmonRuntime> {
    await Promise.all(
      [opts.runtimeRoot, opts.exitDir, opts.socketDir].map((d) =>
        fsp.mkdir(d, { recursive: true, mode: 0o700 }),
      ),
    );
    return new ConmonRuntime(opts);
  }

  /** Resolves a runtime name; unknown names throw before anything is created. */
  resolveRuntime(requested?: string): RuntimeBinding {
    const name = requested || this.opts.defaultRuntime || 'runc';
    if (name === 'runc' && !this.opts.runtimes?.runc) {
      return { name: 'runc', path: this.opts.runtimePath, root: this.opts.runtimeRoot, args: [] };
    }
    const r = getOwn(this.opts.runtimes, name);
    if (!r) {
      throw new InvalidArgumentError(
        'UNKNOWN_RUNTIME',
        `unknown or invalid runtime name: ${name} (configured: ${['runc', ...Object.keys(this.opts.runtimes ?? {})].join(', ')}; add others under "runtimes" in daemon.json)`,
      );
    }
    return {
      name,
      path: r.path,
      root: path.join(path.dirname(this.opts.runtimeRoot), 'runtimes', name),
      args: r.runtimeArgs ?? [],
    };
  }

  /** Records which runtime a container uses (at create, and when adopting after a restart). */
  bind(id: string, runtimeName: string | undefined): RuntimeBinding {
    const b = this.resolveRuntime(runtimeName);
    this.#bindings.set(id, b);
    return b;
  }

  /** The runtime a container was bound to (runc if never bound). */
  runtimeFor(id: string): RuntimeBinding {
    return this.#bindings.get(id) ?? this.resolveRuntime('runc');
  }

  async #runtime(id: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
    const b = this.runtimeFor(id);
    const timeout = runtimeCallTimeoutMs();
    try {
      // Bounded: a wedged runtime call would otherwise hold the container's lock for good.
      return await span(`spawn.runc ${args[0]}`, () =>
        exec(b.path, [...b.args, '--root', b.root, ...args], {
          maxBuffer: 16 << 20,
          timeout,
          killSignal: 'SIGKILL',
        }),
      );
    } catch (err) {
      const e = err as { killed?: boolean; signal?: string; stderr?: string };
      if (e.killed && e.signal === 'SIGKILL') {
        e.stderr = `\`${b.name} ${args[0]}\` did not finish within ${timeout / 1000}s and was killed${e.stderr ? `: ${e.stderr.trim()}` : ''}; the runtime is overloaded or stuck: try again`;
      }
      throw err;
    }
  }

  /**
   * Starts conmon, which runs `runc create`. Resolves with the container's pid once it exists;
   * conmon reports it (or the runtime's error) on the sync pipe (fd 3).
   */
  async create(c: CreateOptions): Promise<{ pid: number; conmonPid: number }> {
    await fsp.rm(path.join(this.opts.exitDir, c.id), { force: true });
    const rt = this.bind(c.id, c.runtime);
    await fsp.mkdir(rt.root, { recursive: true, mode: 0o700 });
    // Fresh per attempt, so only this create's errors are read back, and a monitor pid left by
    // an earlier start (a restart) is never taken for this one's dead monitor.
    const runtimeLog = path.join(c.bundle, 'runtime.log');
    await Promise.all([runtimeLog, path.join(c.bundle, 'conmon.pid')].map((f) => fsp.rm(f, { force: true })));
    const args = [
      '--api-version', '1',
      '-c', c.id,
      '-u', c.id,
      '-n', c.name,
      '-r', rt.path,
      '-b', c.bundle,
      '-p', path.join(c.bundle, 'pidfile'),
      '-P', path.join(c.bundle, 'conmon.pid'),
      '--exit-dir', this.opts.exitDir,
      '-l', c.logPath === undefined ? 'none' : `k8s-file:${c.logPath}`,
      '--socket-dir-path', this.opts.socketDir,
      ...rt.args.flatMap((a) => ['--runtime-arg', a]),
      '--runtime-arg', `--root=${rt.root}`,
      // The runtime's own error log, as containerd's shim asks every runtime for: read when
      // conmon cannot pass the error on (see create-wait.ts).
      '--runtime-arg', `--log=${runtimeLog}`,
      '--runtime-arg', '--log-format=json',
      '--log-level', 'error',
      ...(c.logSizeMax ? ['--log-size-max', String(c.logSizeMax)] : []),
      ...(c.terminal ? ['-t'] : []),
      ...(c.stdin ? ['-i'] : []),
      ...(c.stdin && c.leaveStdinOpen ? ['--leave-stdin-open'] : []),
    ]; // biome-ignore format: flag/value pairs
    // conmon's own output goes to a file, never to a pipe of ours: once berthd is gone a write
    // to that pipe would kill conmon with SIGPIPE, and the container's stdio with it.
    const conmonLog = await fsp.open(path.join(c.bundle, 'conmon.log'), 'a', 0o600);
    const child = spawn(this.opts.conmonPath, args, {
      // conmon drops an `oom` marker file in its working directory on an OOM kill: keep it in the bundle.
      cwd: c.bundle,
      stdio: ['ignore', conmonLog.fd, conmonLog.fd, 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      detached: true,
    });
    await conmonLog.close();
    const syncPipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    const outcome = await span('conmon.runc-create-wait', () =>
      awaitCreate({
        child,
        syncPipe,
        bundle: c.bundle,
        runtimeLog,
        conmonPidFile: path.join(c.bundle, 'conmon.pid'),
        timeoutMs: createTimeoutMs(),
      }),
    );
    // conmon's daemonised child keeps the pipe open after its one line: stop reading here.
    syncPipe.destroy();
    child.unref();
    if (!('pid' in outcome)) {
      // A monitor that never reported is of no use: end it and whatever runtime process it is
      // still waiting on (conmon leads its own session, so its pid is the group's), so the
      // caller's `runtime delete` and rootfs teardown do not race a half-made container.
      const monitor = Number(
        (await fsp.readFile(path.join(c.bundle, 'conmon.pid'), 'utf8').catch(() => '')).trim(),
      );
      const cmd = await fsp.readFile(`/proc/${monitor}/cmdline`, 'utf8').catch(() => '');
      if (Number.isInteger(monitor) && monitor > 1 && cmd.includes(c.id)) {
        try {
          process.kill(-monitor, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      const { text, timedOut } = createFailure(outcome);
      if (timedOut) throw timeoutError(text);
      const log = await fsp.readFile(path.join(c.bundle, 'conmon.log'), 'utf8').catch(() => '');
      throw classifyRuntimeError(
        outcome.conmonSaid || outcome.runtimeSaid
          ? text
          : `${text}${log.trim() ? `: ${log.trim().split('\n').slice(-5).join('\n')}` : ''}`,
      );
    }
    const pid = outcome.pid;
    // The first conmon process writes the pid file just before it exits, possibly after the
    // monitor it forked has already reported the container pid: wait for that exit first.
    if (child.exitCode === null && child.signalCode === null)
      await span('conmon.first-exit', () => new Promise((r) => child.once('exit', r)));
    this.#createdPids.set(c.id, pid);
    return { pid, conmonPid: await readConmonPid(path.join(c.bundle, 'conmon.pid')) };
  }

  async start(id: string): Promise<void> {
    const pid = this.#createdPids.get(id);
    this.#createdPids.delete(id);
    const b = this.runtimeFor(id);
    // runc's own start is the other end of its exec fifo: done here, it saves a runc spawn on
    // every start (exec-fifo.ts). Other runtimes, and a container this berthd did not create
    // (no pid: created before a restart), get the runtime's `start`.
    if (pid !== undefined && b.name === 'runc' && path.basename(b.path) === 'runc' && b.args.length === 0) {
      const done = await span('runtime.exec-fifo', () =>
        startThroughFifo(b.root, id, pid, runtimeCallTimeoutMs()),
      );
      if (done) return;
    }
    try {
      await this.#runtime(id, ['start', id]);
    } catch (err) {
      throw classifyRuntimeError((err as { stderr?: string }).stderr || String(err));
    }
  }

  async kill(id: string, signal: string, all = false): Promise<void> {
    try {
      await this.#runtime(id, ['kill', ...(all ? ['--all'] : []), id, signal]);
    } catch (err) {
      const text = (err as { stderr?: string }).stderr ?? String(err);
      if (/not running|process already finished|container not running/i.test(text)) {
        throw new ConflictError('CONTAINER_NOT_RUNNING', `container ${id} is not running`);
      }
      throw classifyRuntimeError(text);
    }
  }

  /** `runc update`: new cgroup limits (OCI linux.resources JSON) for a live container. */
  async update(id: string, resources: object): Promise<void> {
    const file = path.join(this.opts.socketDir, `update-${id}-${process.pid}-${Date.now()}.json`);
    await fsp.writeFile(file, JSON.stringify(resources));
    try {
      await this.#runtime(id, ['update', '--resources', file, id]);
    } catch (err) {
      throw classifyRuntimeError((err as { stderr?: string }).stderr || String(err));
    } finally {
      await fsp.rm(file, { force: true });
    }
  }

  async pause(id: string): Promise<void> {
    await this.#runtime(id, ['pause', id]).catch((err) => {
      throw classifyRuntimeError((err as { stderr?: string }).stderr ?? String(err));
    });
  }

  async resume(id: string): Promise<void> {
    await this.#runtime(id, ['resume', id]).catch((err) => {
      throw classifyRuntimeError((err as { stderr?: string }).stderr ?? String(err));
    });
  }

  /**
   * Resizes the container's terminal: conmon reads "<type> <height> <width>" lines on the `ctl`
   * fifo in the bundle (type 1 is a window resize). Non-blocking open: if conmon is gone the
   * open fails with ENXIO instead of hanging.
   */
  async resize(bundle: string, height: number, width: number): Promise<void> {
    await writeCtl(bundle, `1 ${height} ${width}\n`);
  }

  /** Asks conmon to reopen its log file (type 2), after berthd rotated it. */
  async reopenLog(bundle: string): Promise<void> {
    await writeCtl(bundle, '2 0 0\n');
  }

  /** Host PIDs of every process in the container (`runc ps`). */
  async pids(id: string): Promise<number[]> {
    const { stdout } = await this.#runtime(id, ['ps', '--format', 'json', id]).catch((err) => {
      throw classifyRuntimeError((err as { stderr?: string }).stderr ?? String(err));
    });
    return (JSON.parse(stdout || '[]') as number[] | null) ?? [];
  }

  async delete(id: string, force = false): Promise<void> {
    this.#createdPids.delete(id);
    try {
      await this.#runtime(id, ['delete', ...(force ? ['--force'] : []), id]);
    } catch (err) {
      const text = (err as { stderr?: string }).stderr ?? '';
      if (/does not exist|not exist/i.test(text)) return;
      throw classifyRuntimeError(text || String(err));
    }
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    try {
      const { stdout } = await this.#runtime(id, ['state', id]);
      const s = JSON.parse(stdout) as { status: RuntimeState['status']; pid: number };
      return { status: s.status, pid: s.pid };
    } catch {
      return undefined;
    }
  }

  /** The exit code conmon recorded, if the container has exited. */
  async exitCode(id: string): Promise<{ code: number; at: Date } | undefined> {
    const file = path.join(this.opts.exitDir, id);
    try {
      const [text, st] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
      if (text.trim() === '') return undefined;
      return { code: Number(text.trim()), at: st.mtime };
    } catch {
      return undefined;
    }
  }

  async clearExit(id: string): Promise<void> {
    await fsp.rm(path.join(this.opts.exitDir, id), { force: true });
  }

  /** Calls `onExit(id)` whenever conmon writes an exit file. */
  watchExits(onExit: (id: string) => void): void {
    this.#watcher = watch(this.opts.exitDir, (_event, name) => {
      if (name) onExit(name.toString());
    });
  }

  close(): void {
    this.#watcher?.close();
  }
}

async function writeCtl(bundle: string, message: string): Promise<void> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path.join(bundle, 'ctl'), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    throw new ConflictError(
      'MONITOR_GONE',
      `the container's monitor is not running (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  try {
    await fh.write(message);
  } finally {
    await fh.close();
  }
}

/** Maps an OCI runtime error to Docker's exit-code classes (126 not executable, 127 not found). */
export function classifyRuntimeError(text: string): Error {
  const msg =
    text
      .replace(/^.*?msg="?/s, '')
      .replace(/"?\s*$/, '')
      .trim() || text.trim();
  if (/executable file not found|no such file or directory/i.test(msg) && /exec/i.test(msg)) {
    return Object.assign(
      new NotFoundError('COMMAND_NOT_FOUND', `failed to create task for container: ${msg}`),
      { exitCode: 127 },
    );
  }
  if (/permission denied/i.test(msg) && /exec/i.test(msg)) {
    return Object.assign(
      new FailedPreconditionError('COMMAND_NOT_EXECUTABLE', `failed to create task for container: ${msg}`),
      {
        exitCode: 126,
      },
    );
  }
  return new InternalError('RUNTIME_ERROR', `OCI runtime error: ${msg}`);
}

/**
 * conmon's own pid file, written by the first conmon process as it exits (an ENOENT 500 on a
 * start under load when read before that exit). A short bounded retry covers a slow rename.
 */
async function readConmonPid(file: string): Promise<number> {
  for (let i = 0; ; i++) {
    try {
      const pid = Number((await fsp.readFile(file, 'utf8')).trim());
      if (pid > 0 || i >= 200) return pid;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || i >= 200) throw err;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
