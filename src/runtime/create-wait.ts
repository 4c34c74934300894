// Waiting for conmon's answer to `runtime create`. conmon writes one JSON line on the sync pipe:
// the container pid, or -1 with the runtime's stderr. It does so only after `runtime create`
// exited and (on failure) after one read of the runtime's stderr pipe — a pipe the container's
// init also holds, so a runtime that failed while its init (or any child) lives on leaves conmon
// blocked with nothing on the sync pipe. The runtime's own log file (`--log`, JSON lines, as
// containerd's shim passes it) has the error either way, so Berth watches that file and
// conmon's liveness beside the pipe and answers as soon as any of them says how it ended; the
// overall timeout is a last resort whose message carries the runtime's log and what every
// process under conmon is waiting on.
import type { ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { InternalError } from '../errdefs/index.ts';

export interface CreateWatch {
  /** The conmon process berthd spawned (it forks the monitor and exits 0). */
  readonly child: ChildProcess;
  readonly syncPipe: NodeJS.ReadableStream;
  readonly bundle: string;
  /** The runtime's `--log` file (JSON lines). */
  readonly runtimeLog: string;
  /** conmon's `-P` file: the monitor's pid, written before the spawned conmon exits. */
  readonly conmonPidFile: string;
  readonly timeoutMs: number;
  /** How often the log file and conmon's liveness are checked. */
  readonly pollMs?: number;
  /** How long a runtime error in its log waits for conmon to report it itself. */
  readonly graceMs?: number;
}

/** How the wait ended: a pid, or a reason with what the runtime said (if anything). */
export type CreateOutcome = { pid: number } | CreateFailure;

export interface CreateFailure {
  /** How the wait ended. */
  readonly failed: string;
  /** The runtime's stderr as conmon passed it on the sync pipe, if it did. */
  readonly conmonSaid?: string;
  /** The error lines of the runtime's log. */
  readonly runtimeSaid: string;
}

/** The error lines of a runtime's JSON log (`level` error/fatal/panic), oldest first. */
export function runtimeLogErrors(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    try {
      const e = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if (typeof e.msg === 'string' && /^(error|fatal|panic)$/.test(String(e.level))) out.push(e.msg);
    } catch {
      // A runtime that writes plain text to its log: take lines that look like errors.
      if (/error|fail|fatal/i.test(line)) out.push(line);
    }
  }
  return out;
}

/** Parses conmon's sync line: `{"data": pid}` (API 1) or `{"pid": pid}`, with `message` on failure. */
export function parseSyncLine(line: string): { pid?: number; message?: string } {
  try {
    const m = JSON.parse(line.trim() || '{}') as { pid?: unknown; data?: unknown; message?: unknown };
    const pid = typeof m.pid === 'number' ? m.pid : typeof m.data === 'number' ? m.data : undefined;
    return {
      ...(pid !== undefined ? { pid } : {}),
      ...(typeof m.message === 'string' ? { message: m.message } : {}),
    };
  } catch {
    return { message: `conmon sent an unreadable sync message: ${JSON.stringify(line.slice(0, 200))}` };
  }
}

async function readText(file: string): Promise<string> {
  return fsp.readFile(file, 'utf8').catch(() => '');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function monitorPid(file: string): Promise<number | undefined> {
  const n = Number((await readText(file)).trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Resolves once conmon reported, gave up, died, or the runtime logged an error; never rejects. */
export function awaitCreate(w: CreateWatch): Promise<CreateOutcome> {
  const pollMs = w.pollMs ?? 100;
  const graceMs = w.graceMs ?? 2000;
  return new Promise<CreateOutcome>((resolve) => {
    let sync = '';
    let settled = false;
    let errorSeenAt = 0;
    let polling = false;
    const done = (o: CreateOutcome) => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(timer);
      resolve(o);
    };
    const failWithLog = async (failed: string, conmonSaid?: string) => {
      // conmon writes its answer before exiting: a closing pipe may still carry the last line.
      if (conmonSaid === undefined) await new Promise((r) => setTimeout(r, 20));
      if (settled) return;
      const runtimeSaid = runtimeLogErrors(await readText(w.runtimeLog)).join('\n');
      done({ failed, runtimeSaid, ...(conmonSaid ? { conmonSaid } : {}) });
    };
    w.syncPipe.on('data', (d: Buffer) => {
      sync += d.toString();
      const nl = sync.indexOf('\n');
      if (nl === -1) return;
      const m = parseSyncLine(sync.slice(0, nl));
      if (m.pid !== undefined && m.pid > 0) done({ pid: m.pid });
      else void failWithLog('conmon reported no pid', m.message ?? '').catch(() => {});
    });
    const closed = () => {
      if (settled) return;
      // A last line without its newline still counts.
      const m = parseSyncLine(sync);
      if (m.pid !== undefined && m.pid > 0) return done({ pid: m.pid });
      void failWithLog('conmon exited without reporting the container pid', m.message).catch(() => {});
    };
    w.syncPipe.on('end', closed);
    w.syncPipe.on('close', closed);
    w.syncPipe.on(
      'error',
      (err: Error) => void failWithLog(`reading conmon's sync pipe failed: ${err.message}`),
    );
    w.child.on('error', (err) =>
      done({ failed: `conmon could not be started: ${err.message}`, runtimeSaid: '' }),
    );
    w.child.on('exit', (code, signal) => {
      // The spawned conmon exits 0 right after forking the monitor; anything else means it
      // never got that far (bad option, runtime path not executable, ...).
      if (code !== 0)
        void failWithLog(`conmon exited with ${signal ?? `status ${code}`} before starting the monitor`);
    });
    const poll = setInterval(() => {
      if (polling || settled) return;
      polling = true;
      void (async () => {
        const errors = runtimeLogErrors(await readText(w.runtimeLog));
        if (errors.length > 0) {
          errorSeenAt ||= Date.now();
          if (Date.now() - errorSeenAt >= graceMs) {
            return done({
              failed: 'the runtime failed but conmon did not report it',
              runtimeSaid: errors.join('\n'),
            });
          }
        }
        const pid = await monitorPid(w.conmonPidFile);
        if (pid !== undefined && !alive(pid))
          await failWithLog('conmon died without reporting the container pid');
      })()
        .catch(() => {})
        .finally(() => {
          polling = false;
        });
    }, pollMs);
    const timer = setTimeout(() => {
      void (async () => {
        const pid = await monitorPid(w.conmonPidFile);
        const tree = pid !== undefined ? await describeTree(pid) : 'conmon wrote no pid file';
        done({
          failed: `conmon did not report the container pid within ${w.timeoutMs % 1000 === 0 ? w.timeoutMs / 1000 : (w.timeoutMs / 1000).toFixed(1)}s; processes: ${tree}`,
          runtimeSaid: (await readText(w.runtimeLog)).trim().split('\n').slice(-10).join('\n'),
        });
      })().catch(() => done({ failed: 'conmon did not report the container pid in time', runtimeSaid: '' }));
    }, w.timeoutMs);
  });
}

/** "pid cmd (state, waiting in wchan)" for a process and its descendants, for the timeout message. */
export async function describeTree(root: number, limit = 12): Promise<string> {
  const parts: string[] = [];
  const queue = [root];
  while (queue.length > 0 && parts.length < limit) {
    const pid = queue.shift()!;
    const dir = path.join('/proc', String(pid));
    const stat = await readText(path.join(dir, 'stat'));
    if (!stat) {
      parts.push(`${pid} (gone)`);
      continue;
    }
    const cmd = (await readText(path.join(dir, 'cmdline'))).split('\0').filter(Boolean).slice(0, 3).join(' ');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
    const wchan = (await readText(path.join(dir, 'wchan'))).trim() || '-';
    parts.push(`${pid} ${cmd} (state ${state}, waiting in ${wchan})`);
    for (const t of await fsp.readdir(path.join(dir, 'task')).catch(() => [] as string[])) {
      const kids = (await readText(path.join(dir, 'task', t, 'children'))).trim();
      if (kids) queue.push(...kids.split(/\s+/).map(Number));
    }
  }
  return parts.join('; ');
}

/** The error for a failed create: what the runtime said if anything, else how the wait ended. */
export function createFailure(o: CreateFailure): { text: string; timedOut: boolean } {
  const timedOut = o.failed.startsWith('conmon did not report');
  if (timedOut) {
    return {
      text:
        `${o.failed}; runtime log: ${o.runtimeSaid || '(empty)'}; the container was not started and ` +
        'its monitor was stopped: start it again, and if this repeats look at what the processes above wait in',
      timedOut,
    };
  }
  return { text: o.conmonSaid?.trim() || o.runtimeSaid || o.failed, timedOut };
}

export function timeoutError(text: string): InternalError {
  return new InternalError('CONMON_TIMEOUT', text);
}
