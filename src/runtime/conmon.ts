// The per-container monitor: conmon runs `runc create`, holds the container's stdio, writes its
// output to the log file and its exit code to <exit-dir>/<id>, and outlives berthd. Berth talks
// to the OCI runtime through its standard CLI (start/kill/delete/state).
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants, type FSWatcher, promises as fsp, watch } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  ConflictError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
} from '../errdefs/index.ts';
import { getOwn } from '../base/own.ts';

const exec = promisify(execFile);

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
  readonly logPath: string;
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

  #runtime(id: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
    const b = this.runtimeFor(id);
    return exec(b.path, [...b.args, '--root', b.root, ...args], { maxBuffer: 16 << 20 });
  }

  /**
   * Starts conmon, which runs `runc create`. Resolves with the container's pid once it exists;
   * conmon reports it (or the runtime's error) on the sync pipe (fd 3).
   */
  async create(c: CreateOptions): Promise<{ pid: number; conmonPid: number }> {
    await fsp.rm(path.join(this.opts.exitDir, c.id), { force: true });
    const rt = this.bind(c.id, c.runtime);
    await fsp.mkdir(rt.root, { recursive: true, mode: 0o700 });
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
      '-l', `k8s-file:${c.logPath}`,
      '--socket-dir-path', this.opts.socketDir,
      ...rt.args.flatMap((a) => ['--runtime-arg', a]),
      '--runtime-arg', `--root=${rt.root}`,
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
    const stderr = '';
    let sync = '';
    const syncPipe = child.stdio[3] as NodeJS.ReadableStream;
    syncPipe.on('data', (d: Buffer) => {
      sync += d.toString();
    });
    // conmon writes one JSON line with the container pid (or the runtime's error) on the sync
    // pipe; its daemonised child keeps the pipe open afterwards, so read a line, not to EOF.
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new InternalError(
              'CONMON_TIMEOUT',
              `conmon did not report the container pid within 30s: ${stderr.trim()}`,
            ),
          ),
        30_000,
      );
      const finish = (text: string) => {
        clearTimeout(timer);
        resolve(text);
      };
      syncPipe.on('data', () => {
        const nl = sync.indexOf('\n');
        if (nl !== -1) finish(sync.slice(0, nl));
      });
      syncPipe.on('end', () => finish(sync));
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    (syncPipe as unknown as { destroy(): void }).destroy();
    child.unref();
    let msg: { pid?: number; data?: number; message?: string } = {};
    try {
      msg = JSON.parse(line.trim() || '{}') as typeof msg;
    } catch {
      msg = {};
    }
    const pid = msg.pid ?? msg.data;
    if (!pid || pid < 0) {
      // Give conmon a moment to finish its error output.
      await new Promise((r) => setTimeout(r, 20));
      const log = await fsp.readFile(path.join(c.bundle, 'conmon.log'), 'utf8').catch(() => '');
      const why =
        (msg.message ?? (stderr || log.split('\n').slice(-5).join('\n'))).trim() ||
        'conmon exited without reporting a pid';
      throw classifyRuntimeError(why);
    }
    const conmonPid = Number((await fsp.readFile(path.join(c.bundle, 'conmon.pid'), 'utf8')).trim());
    return { pid, conmonPid };
  }

  async start(id: string): Promise<void> {
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
