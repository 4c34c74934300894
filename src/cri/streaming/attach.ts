// Attach to a CRI container's main process, as containerd serves it: output is what the
// process writes from now on, read by following the container's CRI log file (conmon writes it;
// berthd holds no pipe to the process), stdout and stderr apart (one stream with a terminal);
// stdin goes into conmon's attach socket through berth-stdin-relay (a SOCK_SEQPACKET socket
// Node cannot open). The session ends when the container exits or the client goes.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { readLogs } from '../../logs/reader.ts';
import type { CriContainers } from '../containers.ts';
import { CriError } from '../errors.ts';
import type { SessionIO } from './backend.ts';

/** How often the container's state is read while attached (its exit ends the session). */
const EXIT_POLL_MS = 250;

export async function attachContainer(
  containers: CriContainers,
  ref: string,
  stdinRelay: string | undefined,
  io: SessionIO,
): Promise<void> {
  const rec = await containers.get(ref);
  if (rec.state.status !== 'running')
    throw new CriError(
      status.FAILED_PRECONDITION,
      `container ${rec.id} is not running (${rec.state.status})`,
    );
  const paths = containers.paths(rec.id);
  // Output from now on: by timestamp rather than the file's current end, so a line the process
  // writes while the follower is still opening the file is not lost.
  const since = Date.now() / 1000;
  const done = new AbortController();
  const onAbort = () => done.abort();
  io.signal.addEventListener('abort', onAbort, { once: true });
  // The container's exit, seen from its record (the runtime's exit file).
  const exited = new Promise<void>((resolve) => {
    const check = async () => {
      if (done.signal.aborted) return resolve();
      const now = await containers.get(rec.id).catch(() => undefined);
      if (now?.state.status !== 'running') return resolve();
      setTimeout(check, EXIT_POLL_MS).unref();
    };
    void check();
  });
  let relay: ReturnType<typeof spawn> | undefined;
  if (io.stdin && rec.stdin) {
    if (!stdinRelay) throw new Error('attach stdin needs berth-stdin-relay, which was not built');
    // conmon's attach socket sits in the bundle (its socket-dir entry is a link to it).
    relay = spawn(stdinRelay, [path.join(paths.bundle, 'attach')], { stdio: ['pipe', 'ignore', 'pipe'] });
    relay.stdin?.on('error', () => {});
    relay.on('error', () => {});
    io.stdin.pipe(relay.stdin as NonNullable<typeof relay.stdin>);
  } else io.stdin?.resume();
  try {
    const logFile = rec.logPath || paths.ownLog;
    for await (const r of readLogs(logFile, { follow: true, since, signal: done.signal, exited })) {
      const to = rec.tty || r.stream === 'stdout' ? io.stdout : io.stderr;
      if (to && !to.write(r.data)) await new Promise((res) => to.once('drain', res));
    }
  } finally {
    done.abort();
    io.signal.removeEventListener('abort', onAbort);
    io.stdin?.unpipe();
    relay?.kill('SIGTERM');
  }
}
