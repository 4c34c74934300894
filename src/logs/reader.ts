// Reads a container's k8s-file log with `docker logs` semantics: tail, since/until, stream
// selection, and follow (across conmon's rotation at --log-size-max) until the caller aborts or
// the container has exited and the file is drained.
import { type FSWatcher, promises as fsp, watch } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '../errdefs/index.ts';
import {
  compareInstants,
  fixedUtcTimestamp,
  type Instant,
  instantFromSeconds,
  isFixedUtcTimestamp,
  K8sFileParser,
  type LogRecord,
  type LogStream,
  parseTimestamp,
} from './k8s-file.ts';
import { openLog } from './compress.ts';
import { planTail } from './tail.ts';

export interface ReadLogsOptions {
  /** After the end of the file, wait for more records (see `signal` and `exited`). */
  readonly follow?: boolean | undefined;
  /**
   * Only the last n lines of the file: a line is an F record plus the P records of its stream
   * before it (a stream's unterminated last line counts too). Lines of both streams are counted,
   * as Docker counts its log's entries, before stream selection and since/until apply. 0 shows
   * only what follow sees next; negative means all. Default 'all'.
   */
  readonly tail?: number | 'all' | undefined;
  /** Only records at or after this time (unix seconds, fractional); 0 means no limit. */
  readonly since?: number | undefined;
  /** Only records at or before this time (unix seconds, fractional); 0 means no limit. */
  readonly until?: number | undefined;
  /** Neither given: both streams. Otherwise each stream that is `true`; at least one must be. */
  readonly stdout?: boolean | undefined;
  readonly stderr?: boolean | undefined;
  /** Ends the iteration (quietly, no error) when aborted. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Resolves (or rejects) once the container has exited: its output is complete, so a torn last
   * line (bytes without their '\n' at the end of the file) is final and emitted; `follow` stops
   * after draining the file.
   */
  readonly exited?: Promise<unknown> | undefined;
  /** How often a follower checks the file when no change notification arrives. Default 250 ms. */
  readonly pollIntervalMs?: number | undefined;
  /**
   * Whether a follower also watches the log's directory (inotify) to see appends at once. Default
   * true; without it (or where watching fails, e.g. some network filesystems) it only polls.
   */
  readonly watch?: boolean | undefined;
  /** Bytes of one line held before it is passed on in pieces (see K8sFileParser). Default 1 MiB. */
  readonly maxLineBytes?: number | undefined;
  /**
   * Start at this byte offset (the file's size when the caller looked: attach takes it before
   * it answers, so output written between its answer and the first read is not skipped, as a
   * `tail: 0` taken at the first read would). Overrides `tail`; a smaller file (replaced since)
   * is read from its start.
   */
  readonly startOffset?: number | undefined;
}

/** Options checked and defaulted. */
interface Plan {
  readonly follow: boolean;
  readonly tail: number; // -1: all
  readonly since: Instant | undefined;
  readonly until: Instant | undefined;
  readonly untilSeconds: number;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly signal: AbortSignal | undefined;
  readonly exited: Promise<unknown> | undefined;
  readonly pollMs: number;
  readonly watch: boolean;
  readonly maxLineBytes: number | undefined;
  readonly startOffset: number | undefined;
}

const CHUNK = 256 << 10;

function invalid(message: string): InvalidArgumentError {
  return new InvalidArgumentError('INVALID_LOGS_OPTION', message);
}

function checkTime(name: string, v: number | undefined): Instant | undefined {
  if (v === undefined || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw invalid(`${name} must be a non-negative number of seconds, got ${String(v)}`);
  }
  return instantFromSeconds(v);
}

/** Validates options; throws InvalidArgumentError. Exported for the API edge and tests. */
export function checkReadLogsOptions(opts: ReadLogsOptions): void {
  plan(opts);
}

function plan(opts: ReadLogsOptions): Plan {
  let tail = -1;
  const t = opts.tail;
  if (t !== undefined && t !== 'all') {
    if (typeof t !== 'number' || !Number.isInteger(t)) {
      throw invalid(`tail must be 'all' or a whole number of lines, got ${String(t)}`);
    }
    tail = t < 0 ? -1 : t; // Docker treats a negative tail as all
  }
  const either = opts.stdout === undefined && opts.stderr === undefined;
  const stdout = either || opts.stdout === true;
  const stderr = either || opts.stderr === true;
  if (!stdout && !stderr) throw invalid('you must choose at least one stream');
  const since = checkTime('since', opts.since);
  const until = checkTime('until', opts.until);
  const pollMs = opts.pollIntervalMs ?? 250;
  if (!(pollMs > 0)) throw invalid('pollIntervalMs must be positive');
  const startOffset = opts.startOffset;
  if (startOffset !== undefined && !(Number.isSafeInteger(startOffset) && startOffset >= 0))
    throw invalid(`startOffset must be a byte offset, got ${String(startOffset)}`);
  return {
    follow: opts.follow === true,
    tail,
    since,
    until,
    untilSeconds: until === undefined ? 0 : (opts.until as number),
    stdout,
    stderr,
    signal: opts.signal,
    exited: opts.exited,
    pollMs,
    watch: opts.watch !== false,
    maxLineBytes: opts.maxLineBytes,
    startOffset,
  };
}

/**
 * The log's records in batches (one per chunk read), for callers that frame many records at
 * once. See readLogs for the semantics. Throws InvalidArgumentError (synchronously) for bad
 * options. A missing file reads as empty (when following, it is waited for).
 */
export function readLogBatches(file: string, opts: ReadLogsOptions = {}): AsyncIterable<LogRecord[]> {
  const p = plan(opts);
  return { [Symbol.asyncIterator]: () => batches(file, p) };
}

/**
 * Reads the container log at `file` as `docker logs` does. Records come in file order; `data`
 * is what the process wrote (content plus '\n' for an F record). Throws InvalidArgumentError
 * (synchronously) for bad options. Nothing is read before the first `next()`: the tail and the
 * follow start are where the file is then. A missing file reads as empty (when following, it is
 * waited for).
 */
export function readLogs(file: string, opts: ReadLogsOptions = {}): AsyncIterable<LogRecord> {
  const p = plan(opts);
  return {
    [Symbol.asyncIterator](): AsyncIterator<LogRecord> {
      // Hands out each batch's records without an async generator step per record.
      const src = batches(file, p);
      let batch: LogRecord[] = [];
      let i = 0;
      const pull = async (): Promise<IteratorResult<LogRecord>> => {
        for (;;) {
          const r = await src.next();
          if (r.done) return { done: true, value: undefined };
          if (r.value.length === 0) continue;
          batch = r.value;
          i = 1;
          return { done: false, value: batch[0]! };
        }
      };
      let inflight: Promise<IteratorResult<LogRecord>> | undefined;
      const next = (): Promise<IteratorResult<LogRecord>> => {
        // Calls made while a batch is being read wait for it (for-await never overlaps them).
        if (inflight !== undefined) return inflight.then(next, next);
        if (i < batch.length) return Promise.resolve({ done: false, value: batch[i++]! });
        const pending = pull().finally(() => {
          inflight = undefined;
        });
        inflight = pending;
        return pending;
      };
      return {
        next,
        async return(): Promise<IteratorResult<LogRecord>> {
          batch = [];
          await src.return(undefined);
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** Wakes a waiting follower: change notifications, abort, exit. Remembers a wake-up with no waiter. */
class Waker {
  #pending = false;
  #wake: (() => void) | undefined;

  poke = (): void => {
    const w = this.#wake;
    if (w) {
      this.#wake = undefined;
      w();
    } else this.#pending = true;
  };

  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

async function openIfExists(file: string, follow: boolean): Promise<FileHandle | undefined> {
  // A rotated file may have been compressed (never the live one, which is what follow reads).
  if (!follow) return openLog(file);
  try {
    return await fsp.open(file, 'r');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function* batches(file: string, p: Plan): AsyncGenerator<LogRecord[], void, undefined> {
  const signal = p.signal;
  if (signal?.aborted) return;
  let exited = false;
  const waker = new Waker();
  if (p.exited) {
    const done = (): void => {
      exited = true;
      waker.poke();
    };
    p.exited.then(done, done);
    // Lets an already settled promise be seen before the first read.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const onAbort = waker.poke;
  signal?.addEventListener('abort', onAbort);
  let watcher: FSWatcher | undefined;
  let fh: FileHandle | undefined;
  try {
    if (p.follow && p.watch) watcher = watchDir(file, waker.poke);
    fh = await openIfExists(file, p.follow);
    while (fh === undefined) {
      if (!p.follow || signal?.aborted || exited) return;
      await waker.wait(p.pollMs);
      fh = await openIfExists(file, p.follow);
    }
    let st = await fh.stat();
    let pos = 0;
    let cutoff: Record<LogStream, number> | undefined;
    if (p.startOffset !== undefined) {
      // At a record's end: a record being written when the caller looked is read whole.
      pos = p.startOffset > st.size ? 0 : await lastLineEnd(fh, p.startOffset);
    } else if (p.tail >= 0) {
      const end = exited ? st.size : await lastLineEnd(fh, st.size);
      const t = await planTail(fh, end, p.tail);
      pos = t.start;
      cutoff = t.cutoff;
    }

    let batch: LogRecord[] = [];
    /** The last bytes read before `pos`, to notice the file rewritten under a follower. */
    let seen: Buffer = EMPTY;
    const { since, until } = p;
    const wantOut = p.stdout;
    const wantErr = p.stderr;
    const timed = since !== undefined || until !== undefined;
    const everything = wantOut && wantErr && !timed;
    // Time filter. conmon's fixed-width UTC timestamps compare as strings; others are parsed.
    const sinceKey = since === undefined ? undefined : fixedUtcTimestamp(since);
    const untilKey = until === undefined ? undefined : fixedUtcTimestamp(until);
    const inRange = (time: string): boolean => {
      if (
        isFixedUtcTimestamp(time) &&
        (since === undefined) === (sinceKey === undefined) &&
        (until === undefined) === (untilKey === undefined)
      ) {
        return !((sinceKey !== undefined && time < sinceKey) || (untilKey !== undefined && time > untilKey));
      }
      const at = parseTimestamp(time);
      if (at === undefined) return false;
      return !(
        (since !== undefined && compareInstants(at, since) < 0) ||
        (until !== undefined && compareInstants(at, until) > 0)
      );
    };
    let lastTime = '';
    let lastKeep = false;
    const parser = new K8sFileParser(
      (rec, lineOffset) => {
        if (cutoff !== undefined && lineOffset <= cutoff[rec.stream]) return;
        if (!everything) {
          if (rec.stream === 'stdout' ? !wantOut : !wantErr) return;
          if (!timed) {
            batch.push(rec);
            return;
          }
          const time = rec.time;
          if (time !== lastTime) {
            lastTime = time;
            lastKeep = inRange(time);
          }
          if (!lastKeep) return;
        }
        batch.push(rec);
      },
      { offset: pos, ...(p.maxLineBytes === undefined ? {} : { maxLineBytes: p.maxLineBytes }) },
    );

    // The next chunk is read while the current one is parsed and consumed.
    const readAt = (h: FileHandle, at: number): Promise<Buffer> => {
      const buf = Buffer.allocUnsafe(CHUNK);
      return h
        .read(buf, 0, CHUNK, at)
        .then(({ bytesRead }) => (bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead)));
    };
    /** Reads from `pos` to the end of the file, yielding a batch per chunk. */
    const drain = async function* (h: FileHandle): AsyncGenerator<LogRecord[], void, undefined> {
      let ahead: Promise<Buffer> | undefined = readAt(h, pos);
      try {
        for (;;) {
          const chunk: Buffer = await ahead;
          ahead = undefined;
          if (chunk.length === 0 || signal?.aborted) return;
          pos += chunk.length;
          ahead = readAt(h, pos);
          seen = remember(seen, chunk);
          parser.push(chunk);
          if (batch.length > 0) {
            const out = batch;
            batch = [];
            yield out;
          }
        }
      } finally {
        // Never leave a read in flight on a handle about to be closed.
        if (ahead !== undefined) await ahead.catch(() => undefined);
      }
    };
    const flush = (): LogRecord[] => {
      parser.flush();
      const out = batch;
      batch = [];
      return out;
    };

    /** Forgets the current file's position: it was truncated or replaced. */
    const restart = (): void => {
      pos = 0;
      parser.reset(0);
      cutoff = undefined;
      seen = EMPTY;
    };

    for (;;) {
      const final = exited; // the writer was done before this pass began
      yield* drain(fh);
      if (signal?.aborted) return;
      if (!p.follow || final) {
        if (final) {
          if (p.follow) {
            // The writer may have rotated the file just before it ended (its last lines are in
            // the new file, which this follower had not seen yet): finish the old, read the new.
            const now = await fsp.stat(file).catch(() => undefined);
            if (now !== undefined && (now.ino !== st.ino || now.dev !== st.dev)) {
              const next = await openIfExists(file, true);
              if (next !== undefined) {
                const rest = flush();
                if (rest.length > 0) yield rest;
                await fh.close();
                fh = next;
                st = await fh.stat();
                restart();
                continue;
              }
            }
          }
          const rest = flush();
          if (rest.length > 0) yield rest;
        }
        return;
      }
      // At the end of the file: wait until it grows, is replaced or truncated, or we are done.
      for (;;) {
        if (signal?.aborted) return;
        if (p.untilSeconds > 0 && Date.now() / 1000 > p.untilSeconds) return;
        if (exited) break; // one more pass reads what the container wrote last
        const now = await fsp.stat(file).catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        if (now !== undefined && (now.ino !== st.ino || now.dev !== st.dev)) {
          // Rotation: conmon closes the log, then renames a new file over it. The old file is
          // complete: finish it, then read the new one from its start.
          const next = await openIfExists(file, true);
          if (next !== undefined) {
            yield* drain(fh);
            const rest = flush();
            if (rest.length > 0) yield rest;
            await fh.close();
            fh = next;
            st = await fh.stat();
            restart();
            break;
          }
        } else {
          const cur = await fh.stat();
          if (cur.size < pos || (await rewritten(fh, pos, seen))) {
            // Truncated in place (and perhaps written again): the old bytes are gone.
            restart();
            break;
          }
          if (cur.size > pos) break;
        }
        await waker.wait(p.pollMs);
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    watcher?.close();
    await fh?.close();
  }
}

const EMPTY = Buffer.alloc(0);
const SEEN = 64;

/** The last SEEN bytes of `prev` followed by `chunk` (a copy: chunks are not kept alive). */
function remember(prev: Buffer, chunk: Buffer): Buffer {
  if (chunk.length >= SEEN) return Buffer.from(chunk.subarray(chunk.length - SEEN));
  const both = Buffer.concat([prev, chunk]);
  return both.length > SEEN ? both.subarray(both.length - SEEN) : both;
}

/** Whether the bytes just before `pos` are no longer the ones read there. */
async function rewritten(fh: FileHandle, pos: number, seen: Buffer): Promise<boolean> {
  if (seen.length === 0 || pos < seen.length) return false;
  const buf = Buffer.allocUnsafe(seen.length);
  const { bytesRead } = await fh.read(buf, 0, seen.length, pos - seen.length);
  return bytesRead !== seen.length || !buf.equals(seen);
}

/** Offset just after the last '\n' at or before `size` (0 if there is none). */
async function lastLineEnd(fh: FileHandle, size: number): Promise<number> {
  const step = 64 << 10;
  let end = size;
  while (end > 0) {
    const a = Math.max(0, end - step);
    const buf = Buffer.allocUnsafe(end - a);
    const { bytesRead } = await fh.read(buf, 0, buf.length, a);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) return a + nl + 1;
    end = a;
  }
  return 0;
}

/**
 * Watches the log's directory (not the file: rotation replaces the file) and pokes on any event
 * for the log. Returns undefined when watching is unavailable; the poll covers for it.
 */
function watchDir(file: string, poke: () => void): FSWatcher | undefined {
  const base = path.basename(file);
  try {
    const w = watch(path.dirname(file), { persistent: false }, (_event, name) => {
      if (name === null || name === base || name.startsWith(`${base}.`)) poke();
    });
    w.on('error', () => w.close());
    return w;
  } catch {
    return undefined;
  }
}
