// Container I/O the composition root wires in: stdin through berth-stdin-relay, and
// healthcheck probes as execs.
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import type { ExecService } from '../containers/index.ts';

/**
 * Waits until the container's monitor listens (the attach socket exists: attach usually comes
 * before start), then runs berth-stdin-relay with the client's stream as its stdin.
 */
export async function feedStdin(
  relay: string,
  socket: string,
  input: NodeJS.ReadableStream,
  signal: AbortSignal,
): Promise<void> {
  input.pause();
  for (let i = 0; ; i++) {
    if (signal.aborted) return;
    const ready = await fsp.stat(socket).then(
      (s) => s.isSocket(),
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, i < 100 ? 5 : 50));
  }
  for (let attempt = 0; attempt < 20 && !signal.aborted; attempt++) {
    const child = spawn(relay, [socket], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.on('error', () => {});
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    input.pipe(child.stdin);
    input.resume();
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    signal.removeEventListener('abort', onAbort);
    input.unpipe(child.stdin);
    // 1 = could not connect yet (a stale socket from an earlier run): retry shortly.
    if (code !== 1) return;
    input.pause();
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One healthcheck probe as an exec; a probe past its timeout counts as a failure (-1). */
export async function healthProbe(
  execs: ExecService,
  id: string,
  cmd: string[],
  timeoutMs: number,
): Promise<{ exitCode: number; output: string }> {
  const execId = execs.create(id, {
    cmd,
    env: [],
    user: '',
    workingDir: '',
    tty: false,
    privileged: false,
    attachStdin: false,
    attachStdout: true,
    attachStderr: true,
  });
  let output = '';
  const collect = (d: Buffer) => {
    if (output.length < 8192) output += d.toString('utf8');
  };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((r) => {
    timer = setTimeout(() => r(-1), timeoutMs);
  });
  const code = await Promise.race([execs.start(execId, { onStdout: collect, onStderr: collect }), timedOut]);
  clearTimeout(timer);
  if (code !== -1) execs.forget(execId);
  return code === -1
    ? { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs / 1000}s)` }
    : { exitCode: code, output };
}
