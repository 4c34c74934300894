// Stream and environment helpers shared by run and exec.
import { readFileSync } from 'node:fs';

export function envFromFiles(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const l = line.trim();
      if (!l || l.startsWith('#')) continue;
      out.push(l.includes('=') ? l : process.env[l] !== undefined ? `${l}=${process.env[l]}` : l);
    }
  }
  return out;
}

export function demuxTo(
  stream: NodeJS.ReadableStream,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    stream.on('data', (c: Buffer) => {
      buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      // Consecutive frames of one stream become one write: a write per log line (a million for
      // 100 MB of short lines) costs more than the daemon's whole answer.
      let run: Buffer[] = [];
      let runStream = -1;
      const flush = () => {
        if (run.length > 0)
          (runStream === 2 ? err : out).write(run.length === 1 ? run[0]! : Buffer.concat(run));
        run = [];
      };
      while (buf.length >= 8) {
        const size = buf.readUInt32BE(4);
        if (buf.length < 8 + size) break;
        const kind = buf[0] === 2 ? 2 : 1;
        if (kind !== runStream) flush();
        runStream = kind;
        run.push(buf.subarray(8, 8 + size));
        buf = buf.subarray(8 + size);
      }
      flush();
    });
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
}

/** The status `run` and `exec` end with (runCli returns it). */
export function setExitCode(code: number): void {
  process.exitCode = code;
}

const CTRL_KEYS: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/** Docker's `--detach-keys` syntax: comma-separated `ctrl-<x>` or single characters. */
export function parseDetachKeys(spec: string): Buffer {
  const bytes: number[] = [];
  for (const part of spec.split(',')) {
    const ctrl = /^ctrl-(.)$/i.exec(part);
    if (ctrl) {
      const ch = ctrl[1]!.toLowerCase();
      const code = ch >= 'a' && ch <= 'z' ? ch.charCodeAt(0) - 96 : CTRL_KEYS[ch];
      if (code === undefined)
        throw new Error(`Invalid detach keys (${spec}) provided: unknown key ctrl-${ch}`);
      bytes.push(code);
    } else if (part.length === 1) {
      bytes.push(part.charCodeAt(0));
    } else {
      throw new Error(
        `Invalid detach keys (${spec}) provided: use a comma-separated list of ctrl-<key> or single characters, e.g. ctrl-p,ctrl-q`,
      );
    }
  }
  return Buffer.from(bytes);
}

/**
 * Passes input through until the detach sequence appears; bytes that start the sequence are
 * held back until it is clear they are not it (Docker's escape proxy).
 */
export class EscapeFilter {
  readonly #keys: Buffer;
  #held = 0;

  constructor(keys: Buffer) {
    this.#keys = keys;
  }

  /** Returns what to forward, and whether the sequence completed. */
  push(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.#keys[this.#held]) {
        this.#held++;
        if (this.#held === this.#keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      for (let i = 0; i < this.#held; i++) out.push(this.#keys[i]!);
      this.#held = 0;
      if (b === this.#keys[0]) this.#held = 1;
      else out.push(b);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}

export interface SessionOptions {
  readonly tty: boolean;
  readonly interactive: boolean;
  readonly detachKeys?: string;
  /** Sends the local terminal size to the daemon. */
  readonly resize?: (height: number, width: number) => Promise<unknown>;
  /** Starts the container once output is being read (so no early output is lost). */
  readonly start?: () => Promise<void>;
}

/**
 * Connects a hijacked attach/exec stream to this terminal: output (raw with a TTY, else
 * demultiplexed), stdin (raw mode on a local terminal, detach keys), and terminal resizes.
 * Resolves when the stream ends or the user detached.
 */
export async function runSession(
  conn: NodeJS.ReadWriteStream & { destroy(): void; end(): void },
  io: { stdin: NodeJS.ReadStream; out: NodeJS.WritableStream; err: NodeJS.WritableStream },
  o: SessionOptions,
): Promise<{ detached: boolean }> {
  const { stdin, out } = io;
  let detached = false;
  const output: Promise<void> = o.tty
    ? new Promise((resolve, reject) => {
        conn.on('data', (c: Buffer) => out.write(c));
        conn.on('end', resolve);
        conn.on('close', resolve);
        conn.on('error', reject);
      })
    : demuxTo(conn, out, io.err);
  if (o.start) {
    try {
      await o.start();
    } catch (err) {
      conn.destroy();
      throw err;
    }
  }
  const stdout = process.stdout;
  const sendSize = () => {
    if (o.resize && stdout.isTTY) void o.resize(stdout.rows, stdout.columns).catch(() => {});
  };
  if (o.tty) {
    sendSize();
    stdout.on('resize', sendSize);
  }
  const raw = o.tty && o.interactive && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  let cleanupInput = () => {};
  const detachedP = new Promise<void>((resolveDetach) => {
    if (!o.interactive) return;
    const filter = o.tty ? new EscapeFilter(parseDetachKeys(o.detachKeys || 'ctrl-p,ctrl-q')) : undefined;
    const onData = (c: Buffer) => {
      const r = filter ? filter.push(c) : { forward: c, detach: false };
      if (r.forward.length > 0 && !conn.write(r.forward)) {
        stdin.pause();
        conn.once('drain', () => stdin.resume());
      }
      if (r.detach) {
        detached = true;
        resolveDetach();
      }
    };
    // At EOF only our write side closes, so output still arrives.
    const onEnd = () => conn.end();
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    cleanupInput = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      // A paused terminal can still hold the event loop open: once detached we are done with it.
      if (!stdin.isTTY || detached) stdin.destroy();
    };
  });
  try {
    await Promise.race([output, detachedP]);
  } finally {
    cleanupInput();
    if (raw) stdin.setRawMode(false);
    stdout.off('resize', sendSize);
    if (detached) conn.destroy();
  }
  return { detached };
}
