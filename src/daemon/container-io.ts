// Container I/O the composition root wires in: stdin (and, for the `none` driver, output)
// through berth-stdin-relay, and healthcheck probes as execs.
import { type ChildProcess, spawn } from 'node:child_process';
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
    const child = spawn(relay, [socket], { stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdin.on('error', () => {});
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    // Input flows only once the relay says it is connected: a relay that could not connect
    // (exit 1: conmon not listening yet, or a stale socket) must not have eaten what the client
    // sent, or the retry would feed the container an empty stdin.
    let piped = false;
    child.stdout.once('data', () => {
      piped = true;
      input.pipe(child.stdin);
      input.resume();
    });
    child.stdout.on('error', () => {});
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    signal.removeEventListener('abort', onAbort);
    if (piped) input.unpipe(child.stdin);
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

/** The relay's frames: a type byte (0 ready, 2 stdout, 3 stderr), a 4-byte length, the bytes. */
async function* relayFrames(src: NodeJS.ReadableStream): AsyncGenerator<[number, Buffer]> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of src as AsyncIterable<Buffer>) {
    buf = buf.length > 0 ? Buffer.concat([buf, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 5) {
      const len = buf.readUInt32BE(off + 1);
      if (buf.length - off - 5 < len) break;
      yield [buf[off]!, buf.subarray(off + 5, off + 5 + len)];
      off += 5 + len;
    }
    buf = buf.subarray(off);
  }
}

/**
 * A container's output read from its monitor's attach socket by `berth-stdin-relay --output`,
 * for the `none` driver (no log file to follow). `gate` runs the connect before the process
 * runs (see StartGates), so nothing it writes is missed.
 */
export async function* attachOutput(
  relay: string,
  socket: string,
  gate: (connect: () => Promise<void>, signal: AbortSignal) => Promise<void>,
  signal: AbortSignal,
  exited: Promise<void>,
): AsyncGenerator<{ stream: 'stdout' | 'stderr'; data: Buffer }> {
  let child: ChildProcess | undefined;
  let frames: AsyncGenerator<[number, Buffer]> | undefined;
  // A start that fails before its monitor is up never opens the gate: stop waiting then.
  const waitAbort = new AbortController();
  const stopWaiting = () => waitAbort.abort();
  signal.addEventListener('abort', stopWaiting, { once: true });
  void exited.then(stopWaiting, stopWaiting);
  const connect = async () => {
    for (let attempt = 0; attempt < 20 && !signal.aborted; attempt++) {
      const c = spawn(relay, ['--output', socket], { stdio: ['ignore', 'pipe', 'ignore'] });
      const closed = new Promise<number | null>((r) => c.on('close', (code) => r(code)));
      const it = relayFrames(c.stdout);
      const first = await it.next();
      if (!first.done && first.value[0] === 0) {
        // The client left while this connected: nobody will read the relay, and a relay left
        // connected would hold conmon back once its pipe fills. (Not on `exited`: what the
        // process wrote before it ended is still to be read, and the relay ends with conmon.)
        if (signal.aborted) {
          c.kill('SIGKILL');
          return;
        }
        child = c;
        frames = it;
        return;
      }
      const code = await closed;
      // 1 = could not connect (a stale socket, or the monitor just went): retry shortly.
      if (code !== 1) throw new Error(`attach relay ended with ${code}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!signal.aborted) throw new Error("could not connect to the container monitor's attach socket");
  };
  try {
    await gate(connect, waitAbort.signal);
    signal.removeEventListener('abort', stopWaiting);
    if (!frames || !child) return;
    const c = child;
    const onAbort = () => c.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const [type, data] of frames) {
        if (type === 2) yield { stream: 'stdout', data };
        else if (type === 3) yield { stream: 'stderr', data };
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  } finally {
    signal.removeEventListener('abort', stopWaiting);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
