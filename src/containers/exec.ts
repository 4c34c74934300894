// `docker exec`: extra processes in a running container, run with `runc exec`. The exec's stdio
// are pipes owned by berthd for the exec's lifetime (an exec does not outlive berthd; containers
// do). Exec records live in memory, as in Docker.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomId } from '../base/ids.ts';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { ConflictError, InvalidArgumentError, NotFoundError, NotImplementedError } from '../errdefs/index.ts';
import { replaceOrAppendEnv, resolveUser } from '../runtime/index.ts';
import { rootfsPaths } from './bundle.ts';
import { execFailedText, RuncErrorFilter } from './exec-failure.ts';
import type { ContainerRecord } from './record.ts';
import { readInRoot } from './rootfs.ts';
import { hostBoundingCaps } from './security.ts';
import type { ContainerService } from './service.ts';

/** How a `runc exec` ended: its code, the end of its stderr, runc's own start failure. */
interface ExecOutcome {
  readonly code: number;
  readonly stderrTail: string;
  readonly failure?: string;
}

export interface ExecConfig {
  readonly cmd: string[];
  readonly env: string[];
  readonly user: string;
  readonly workingDir: string;
  readonly tty: boolean;
  readonly privileged: boolean;
  readonly attachStdin: boolean;
  readonly attachStdout: boolean;
  readonly attachStderr: boolean;
  /** Initial terminal size with `tty`. */
  readonly consoleSize?: { height: number; width: number };
  /** The detach keys asked for at create, in Docker's syntax (unset: ctrl-p,ctrl-q). */
  readonly detachKeys?: string;
}

export interface ExecRecord {
  readonly id: string;
  readonly containerId: string;
  readonly config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  /** Set while a TTY exec runs: resizes its terminal. */
  resize?: (height: number, width: number) => void;
}

export interface ExecIo {
  readonly stdin?: NodeJS.ReadableStream;
  onStdout(data: Buffer): void;
  onStderr(data: Buffer): void;
}

export class ExecService {
  readonly #execs = new Map<string, ExecRecord>();
  readonly #containers: ContainerService;

  constructor(containers: ContainerService) {
    this.#containers = containers;
  }

  create(containerRef: string, config: ExecConfig): string {
    const rec = this.#containers.find(containerRef);
    if (rec.state.status === 'paused') {
      throw new ConflictError(
        'CONTAINER_PAUSED',
        `Container ${rec.id} is paused, unpause the container before exec`,
      );
    }
    if (rec.state.status !== 'running')
      throw new ConflictError('NOT_RUNNING', `Container ${rec.id} is not running`);
    if (config.cmd.length === 0) throw new InvalidArgumentError('NO_COMMAND', 'No exec command specified');
    if (config.tty && !this.#containers.deps.consoleRelay) {
      throw new NotImplementedError(
        'EXEC_TTY',
        'exec with a TTY (-t) needs berth-console-relay, which was not built (install gcc and run npm run build); run it without -t',
      );
    }
    const id = randomId();
    this.#execs.set(id, { id, containerId: rec.id, config, running: false, exitCode: null, pid: 0 });
    this.#event(rec, `exec_create: ${config.cmd.join(' ')}`, { execID: id });
    return id;
  }

  /** Docker's exec events (healthcheck probes included): `exec_create: <cmd>`, `exec_start: <cmd>`, `exec_die`. */
  #event(rec: ContainerRecord, action: string, attrs: Record<string, string>): void {
    this.#containers.deps.events?.('container', action, rec.id, {
      ...(rec.config.Labels ?? {}),
      ...attrs,
      name: rec.name,
      image: rec.config.Image,
    });
  }

  get(id: string): ExecRecord {
    const e = this.#execs.get(id);
    if (!e) throw new NotFoundError('EXEC_NOT_FOUND', `No such exec instance: ${id}`);
    return e;
  }

  /** `runc exec` with pipes for stdio: the output is multiplexed by the caller. */
  async #runWithPipes(e: ExecRecord, runtime: string, args: string[], io: ExecIo): Promise<ExecOutcome> {
    const child: ChildProcess = spawn(runtime, args, {
      stdio: [e.config.attachStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    e.pid = child.pid ?? 0;
    let stderrTail = '';
    const filter = new RuncErrorFilter((d) => io.onStderr(d));
    child.stdout!.on('data', (d: Buffer) => io.onStdout(d));
    child.stderr!.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString()).slice(-2000);
      filter.write(d);
    });
    if (io.stdin && child.stdin) {
      io.stdin.pipe(child.stdin);
      child.stdin.on('error', () => {});
    }
    const code = await new Promise<number>((resolve) => {
      child.on('error', () => resolve(126));
      child.on('close', (c, sig) => resolve(c ?? 128 + (sig ? 9 : 0)));
      // A failed exec can leave a stray process holding the output pipes open, so 'close' may
      // never come: once runc itself has exited, give the pipes a moment to drain, then finish.
      child.on('exit', (c, sig) => {
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          resolve(c ?? 128 + (sig ? 9 : 0));
        }, 250).unref();
      });
    });
    const failure = filter.finish(code);
    return { code, stderrTail, ...(failure !== undefined ? { failure } : {}) };
  }

  /**
   * `exec -t`: berth-console-relay runs `runc exec -d -t --console-socket`, receives the pty
   * master, relays it to its own stdio, reaps the process and reports its pid and exit status
   * on fd 3 (see console-relay.c). With a terminal, stdout and stderr are one stream.
   */
  async #runWithTerminal(e: ExecRecord, runtime: string, args: string[], io: ExecIo): Promise<ExecOutcome> {
    const socketDir = this.#containers.deps.runtime.opts.socketDir;
    const socket = path.join(socketDir, `x-${e.id.slice(0, 16)}`);
    const pidFile = path.join(socketDir, `x-${e.id.slice(0, 16)}.pid`);
    const at = args.indexOf('exec') + 1;
    const runcArgs = [
      ...args.slice(0, at),
      '--detach',
      '--tty',
      '--console-socket',
      socket,
      '--pid-file',
      pidFile,
      ...args.slice(at),
    ];
    const size = e.config.consoleSize;
    const relay = spawn(
      this.#containers.deps.consoleRelay!,
      [socket, String(size?.height ?? 0), String(size?.width ?? 0), pidFile, runtime, ...runcArgs],
      { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] },
    );
    let stderrTail = '';
    const filter = new RuncErrorFilter((d) => io.onStdout(d));
    relay.stdout!.on('data', (d: Buffer) => io.onStdout(d));
    relay.stderr!.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString()).slice(-2000);
      filter.write(d);
    });
    if (io.stdin) {
      io.stdin.pipe(relay.stdin!);
      relay.stdin!.on('error', () => {});
    }
    const ctl = relay.stdio[3] as Duplex;
    ctl.on('error', () => {});
    e.resize = (h, w) => ctl.write(`${h} ${w}\n`);
    let code = 126;
    let lines = '';
    ctl.on('data', (d: Buffer) => {
      lines += d.toString();
      for (let nl = lines.indexOf('\n'); nl !== -1; nl = lines.indexOf('\n')) {
        const [what, n] = lines.slice(0, nl).split(' ');
        lines = lines.slice(nl + 1);
        if (what === 'pid') e.pid = Number(n);
        else if (what === 'exit') code = Number(n);
        else if (what === 'fail') code = Number(n) === 255 ? 255 : 126;
      }
    });
    await new Promise<void>((resolve) => {
      relay.on('error', () => resolve());
      relay.on('close', () => resolve());
    });
    await fsp.rm(pidFile, { force: true });
    const failure = filter.finish(code);
    return { code, stderrTail, ...(failure !== undefined ? { failure } : {}) };
  }

  /** Drops a finished exec's record (healthcheck probes, which nobody inspects later). */
  forget(id: string): void {
    const e = this.#execs.get(id);
    if (e && !e.running) this.#execs.delete(id);
  }

  /** Resizes a running TTY exec; a no-op for one without a terminal (as Docker). */
  resize(id: string, height: number, width: number): void {
    const e = this.get(id);
    if (!e.running && e.exitCode !== null) {
      throw new ConflictError('EXEC_NOT_RUNNING', `Exec ${id} is not running`);
    }
    e.resize?.(height, width);
  }

  /** Runs the exec; resolves with its exit code when it ends. */
  async start(id: string, io: ExecIo): Promise<number> {
    const e = this.get(id);
    if (e.running || e.exitCode !== null)
      throw new ConflictError('EXEC_STARTED', `Exec ${id} has already been started`);
    const rec = this.#containers.find(e.containerId);
    if (rec.state.status !== 'running')
      throw new ConflictError('NOT_RUNNING', `Container ${rec.id} is not running`);
    try {
      return await this.#run(e, rec, io);
    } catch (err) {
      // As Docker: an exec that could not start (unknown user, ...) is over, with exit code 126.
      if (e.exitCode === null && !e.running) e.exitCode = 126;
      throw err;
    }
  }

  async #run(e: ExecRecord, rec: ContainerRecord, io: ExecIo): Promise<number> {
    const merged = rootfsPaths(this.#containers.deps.store.dir(rec.id)).merged;
    const [passwd, group] = await Promise.all([
      readInRoot(merged, '/etc/passwd'),
      readInRoot(merged, '/etc/group'),
    ]);
    const user = resolveUser(e.config.user || rec.config.User, {
      ...(passwd !== undefined ? { passwd } : {}),
      ...(group !== undefined ? { group } : {}),
    });
    const env = replaceOrAppendEnv(
      [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        `HOSTNAME=${rec.config.Hostname}`,
        ...(e.config.tty ? ['TERM=xterm'] : []),
      ],
      [...rec.config.Env, ...e.config.env],
    );
    const rt = this.#containers.deps.runtime.runtimeFor(rec.id);
    const args = [
      ...rt.args,
      '--root',
      rt.root,
      'exec',
      '--user',
      `${user.uid}:${user.gid}`,
      ...user.additionalGids.flatMap((g) => ['--additional-gids', String(g)]),
      // --privileged: every capability the host can give (its bounding set), as Docker's exec.
      ...(e.config.privileged ? hostBoundingCaps().flatMap((c) => ['--cap', c]) : []),
      '--cwd',
      e.config.workingDir || rec.config.WorkingDir || '/',
      ...env.flatMap((v) => ['--env', v]),
      rec.id,
      ...e.config.cmd,
    ];
    // With a terminal size known up front, pass the whole process as JSON: only then does runc
    // size the pty before the command starts (a resize after would race with it).
    let processFile: string | undefined;
    if (e.config.tty && e.config.consoleSize) {
      const bundle = this.#containers.deps.store.dir(rec.id);
      const spec = JSON.parse(await fsp.readFile(path.join(bundle, 'config.json'), 'utf8')) as {
        process: Record<string, unknown>;
      };
      processFile = path.join(this.#containers.deps.runtime.opts.socketDir, `x-${e.id.slice(0, 16)}.json`);
      await fsp.writeFile(
        processFile,
        JSON.stringify({
          ...spec.process,
          terminal: true,
          consoleSize: e.config.consoleSize,
          ...(e.config.privileged
            ? {
                capabilities: {
                  bounding: hostBoundingCaps(),
                  effective: hostBoundingCaps(),
                  permitted: hostBoundingCaps(),
                },
              }
            : {}),
          args: e.config.cmd,
          env,
          cwd: e.config.workingDir || rec.config.WorkingDir || '/',
          user: {
            uid: user.uid,
            gid: user.gid,
            ...(user.additionalGids.length > 0 ? { additionalGids: user.additionalGids } : {}),
          },
        }),
        { mode: 0o600 },
      );
      args.splice(args.indexOf('exec') + 1, 0, '--process', processFile);
    }
    e.running = true;
    this.#event(rec, `exec_start: ${e.config.cmd.join(' ')}`, { execID: e.id });
    const { code, stderrTail, failure } = await (e.config.tty
      ? this.#runWithTerminal(e, rt.path, args, io)
      : this.#runWithPipes(e, rt.path, args, io));
    // runc reports its own failure to start the process as 255 with a message. Docker's exec
    // answers every failure to start with 126, a missing command too (unlike `run`'s 127), and
    // tells runc's message on stdout in its own words.
    let exitCode = code;
    if (code === 255 && /exec failed|unable to start container process/.test(stderrTail)) exitCode = 126;
    if (failure !== undefined) io.onStdout(Buffer.from(execFailedText(failure)));
    if (processFile) await fsp.rm(processFile, { force: true });
    delete e.resize;
    e.running = false;
    e.exitCode = exitCode;
    this.#event(rec, 'exec_die', { execID: e.id, exitCode: String(exitCode) });
    return exitCode;
  }
}
