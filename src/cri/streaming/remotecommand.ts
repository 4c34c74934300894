// remotecommand sessions (exec, attach), independent of the transport: the streams the client
// opened, the resize channel's JSON, and the status written to the error channel when the
// process ends. From protocol v4 on the status is a JSON metav1.Status (the exit code as the
// `ExitCode` cause of a `NonZeroExitCode` failure); before v4 only a failure's message is sent.
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { SessionIO, TerminalSize } from './backend.ts';

/** The streams of one session, as the client opened them. */
export interface RemoteCommandStreams {
  readonly tty: boolean;
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  readonly resize?: Readable;
  /** Writes to the error channel (3). */
  readonly writeError: (data: Buffer) => Promise<void>;
  /** v4 and later: JSON status; older protocols: a failure's text only. */
  readonly jsonStatus: boolean;
}

/** The outcome the error channel reports. */
export type Outcome =
  | { readonly kind: 'success' }
  | { readonly kind: 'exit'; readonly code: number; readonly cmd: readonly string[] }
  | { readonly kind: 'error'; readonly message: string };

/** metav1.Status as Go's json.Marshal writes it (field order and omissions included). */
export function statusJson(o: Outcome): string {
  switch (o.kind) {
    case 'success':
      return JSON.stringify({ metadata: {}, status: 'Success' });
    case 'exit':
      // The message containerd's exec error gives, wrapped as the kubelet wraps it.
      return JSON.stringify({
        metadata: {},
        status: 'Failure',
        message: `command terminated with non-zero exit code: error executing command [${o.cmd.join(' ')}], exit code ${o.code}`,
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(o.code) }] },
      });
    case 'error':
      return JSON.stringify({
        metadata: {},
        status: 'Failure',
        message: `Internal error occurred: ${o.message}`,
        reason: 'InternalError',
        details: { causes: [{ message: o.message }] },
        code: 500,
      });
  }
}

function legacyStatus(o: Outcome): string | undefined {
  if (o.kind === 'success') return undefined;
  return JSON.parse(statusJson(o)).message as string;
}

/**
 * Splits the resize channel's byte stream into TerminalSize objects: Go's json.Decoder reads
 * concatenated objects that may span messages, and matches field names case-insensitively.
 */
export function resizeDecoder(onSize: (s: TerminalSize) => void): (chunk: Buffer) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('utf8');
    if (buf.length > 65536) buf = ''; // no terminal size is that long: drop garbage
    for (;;) {
      const start = buf.indexOf('{');
      if (start < 0) {
        buf = '';
        return;
      }
      let depth = 0;
      let inString = false;
      let end = -1;
      for (let i = start; i < buf.length; i++) {
        const c = buf[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{') depth++;
        else if (c === '}' && --depth === 0) {
          end = i;
          break;
        }
      }
      if (end < 0) {
        buf = buf.slice(start);
        return;
      }
      const text = buf.slice(start, end + 1);
      buf = buf.slice(end + 1);
      try {
        const o = JSON.parse(text) as Record<string, unknown>;
        const field = (name: string) =>
          Number(Object.entries(o).find(([k]) => k.toLowerCase() === name)?.[1] ?? 0);
        const width = field('width');
        const height = field('height');
        if (Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0)
          onSize({ width, height });
      } catch {
        // not JSON: skipped, as a decoder error ends nothing else in the session
      }
    }
  };
}

/**
 * Runs one session: hands the streams to `run`, then writes the outcome to the error channel.
 * `run` resolves to an exit code (exec) or undefined (attach).
 */
export async function serveRemoteCommand(
  s: RemoteCommandStreams,
  cmd: readonly string[],
  signal: AbortSignal,
  run: (io: SessionIO) => Promise<number | undefined>,
): Promise<Outcome> {
  const listeners: ((size: TerminalSize) => void)[] = [];
  // The kubelet sends the first size before the process exists: a late listener gets the last.
  let last: TerminalSize | undefined;
  if (s.resize && s.tty) {
    const decode = resizeDecoder((size) => {
      last = size;
      for (const l of listeners) l(size);
    });
    s.resize.on('data', decode);
  } else s.resize?.resume();
  const io: SessionIO = {
    tty: s.tty,
    ...(s.stdin ? { stdin: s.stdin } : {}),
    ...(s.stdout ? { stdout: s.stdout } : {}),
    ...(s.stderr ? { stderr: s.stderr } : {}),
    onResize: (l) => {
      listeners.push(l);
      if (last) l(last);
    },
    signal,
  };
  let outcome: Outcome;
  try {
    const code = await run(io);
    outcome = code === undefined || code === 0 ? { kind: 'success' } : { kind: 'exit', code, cmd };
  } catch (err) {
    outcome = { kind: 'error', message: (err as Error).message };
  }
  // Whatever the backend left open is ended, so every byte is sent before the status.
  await Promise.all(
    [s.stdout, s.stderr].map(async (w) => {
      if (!w || w.writableFinished || w.destroyed) return;
      if (!w.writableEnded) w.end();
      await once(w, 'finish').catch(() => {});
    }),
  );
  const text = s.jsonStatus ? statusJson(outcome) : legacyStatus(outcome);
  if (text !== undefined) await s.writeError(Buffer.from(text));
  return outcome;
}
