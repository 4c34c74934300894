// The streaming server's backend over berthd's CRI services: Exec runs `runc exec` in a CRI
// container (container-exec.ts; with a terminal through berth-console-relay, tty-exec.ts);
// Attach follows the container's log and feeds conmon's attach socket (attach.ts);
// PortForward dials 127.0.0.1:port in the pod's pinned netns through berth-netns-dial (or the
// host's loopback for a pod on the node's network).
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { execProcess, type ExecProcess } from '../container-exec.ts';
import type { CriContainers } from '../containers.ts';
import { CriError } from '../errors.ts';
import type { SandboxService } from '../sandboxes.ts';
import { attachContainer } from './attach.ts';
import type { SessionIO, StreamingBackend } from './backend.ts';
import { dialHost, dialInNetns } from './netns-dial.ts';
import { execTtyProcess } from './tty-exec.ts';

export interface PodBackendDeps {
  readonly sandboxes: SandboxService;
  readonly containers: CriContainers;
  /** dist/berth-netns-dial, when built. */
  readonly netnsDialBinary: string | undefined;
  /** dist/berth-console-relay, when built (exec with a terminal). */
  readonly consoleRelay: string | undefined;
  /** dist/berth-stdin-relay, when built (attach stdin). */
  readonly stdinRelay: string | undefined;
}

/** Copies a process's output into the client's stream; resolves once it all went out. */
async function copyOut(from: Readable, to: Writable | undefined): Promise<void> {
  if (!to) {
    from.resume();
    await once(from, 'close').catch(() => {});
    return;
  }
  from.pipe(to);
  await once(to, 'finish').catch(() => {});
}

async function runProcess(p: ExecProcess & { resize?: (h: number, w: number) => void }, io: SessionIO) {
  const onAbort = () => p.kill();
  if (io.signal.aborted) onAbort();
  io.signal.addEventListener('abort', onAbort, { once: true });
  try {
    // The size first: input that makes the process read its terminal size comes after it.
    if (p.resize) io.onResize((s) => p.resize?.(s.height, s.width));
    if (io.stdin && p.stdin) {
      p.stdin.on('error', () => {}); // the process may exit before reading it all
      io.stdin.pipe(p.stdin);
    }
    const out = copyOut(p.stdout, io.stdout);
    const err = copyOut(p.stderr, io.stderr);
    const { exitCode, failure } = await p.done;
    await Promise.all([out, err]);
    if (failure !== undefined) throw new Error(`OCI runtime exec failed: ${failure}`);
    return exitCode;
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    io.stdin?.unpipe();
  }
}

export function podStreamingBackend(d: PodBackendDeps): StreamingBackend {
  return {
    checkContainer: async (ref) => {
      const rec = await d.containers.get(ref);
      if (rec.state.status !== 'running')
        throw new CriError(
          status.FAILED_PRECONDITION,
          `container ${rec.id} is not running (${rec.state.status})`,
        );
    },
    exec: async (ref, cmd, io) => {
      if (io.tty) {
        if (!d.consoleRelay)
          throw new Error('exec with a terminal needs berth-console-relay, which was not built');
        return runProcess(
          await execTtyProcess(d.containers, ref, cmd, d.consoleRelay, { stdin: !!io.stdin }),
          io,
        );
      }
      return runProcess(await execProcess(d.containers, ref, cmd, { stdin: !!io.stdin }), io);
    },
    attach: (ref, io) => attachContainer(d.containers, ref, d.stdinRelay, io),
    checkSandbox: async (ref) => {
      const t = await d.sandboxes.forwardTarget(ref);
      if (t.netns !== 'host' && !d.netnsDialBinary)
        throw new CriError(
          status.FAILED_PRECONDITION,
          'berth-netns-dial was not built beside berthd: install gcc and rebuild (npm run build)',
        );
      return t.id;
    },
    portForward: async (id, port, signal) => {
      // Read at each connection: the pod may have stopped since the URL was handed out.
      const t = await d.sandboxes.forwardTarget(id);
      if (t.netns === 'host') return dialHost(port, signal);
      if (!d.netnsDialBinary) throw new Error('berth-netns-dial was not built beside berthd');
      return dialInNetns(d.netnsDialBinary, t.netns, port, signal);
    },
  };
}
