// Remote delivery from the local log. conmon writes the container's k8s-file log (the dual-logging
// cache); one shipper per container reads it from a durable cursor (inode + offset, written
// atomically after each delivered batch) and hands complete lines to the driver's sink. The
// container never waits for the receiver, and a dead receiver or a kill -9 of berthd loses
// nothing the cache still holds: the next shipper resumes at the cursor (at-least-once: the batch
// in flight at a crash may be sent again).
import { type FSWatcher, promises as fsp, watch } from 'node:fs';
import path from 'node:path';
import { atomicWriteFile } from '../base/atomic.ts';
import { type Instant, parseHeader, parseTimestamp } from './k8s-file.ts';
import type { LogMessage, LogSink } from './drivers/types.ts';

/** Bytes read per batch. */
const BATCH_BYTES = 1 << 20;
/** A line longer than this (no newline yet) is sent in pieces, as Docker splits at 16 KiB. */
const MAX_LINE = 256 << 10;
/** The longest wait between retries and between checks of an idle log. */
const MAX_BACKOFF_MS = 5000;
const IDLE_CHECK_MS = 1000;

export interface Cursor {
  readonly ino: number;
  /** Where the next read starts: the first record of a line not sent yet. */
  readonly offset: number;
  /**
   * Lines that finished before this offset were sent (the other stream's lines written after an
   * unfinished one); absent: `offset`.
   */
  readonly sent?: number;
  /**
   * The batch being sent when this was written (sinks that name batches): where its read ended
   * and whether it was read as final. A restarted shipper reads exactly that again, so the
   * resend is the same batch under the same name.
   */
  readonly batch?: { readonly end: number; readonly final: boolean };
}

/** One batch read from the log: its messages, its name, and the cursor once it is delivered. */
interface Batch {
  readonly messages: LogMessage[];
  readonly name: string;
  readonly extent: { readonly end: number; readonly final: boolean };
  readonly from: Cursor;
  readonly cursor: Cursor;
}

export interface ShipperOptions {
  /** The live log; rotated copies are `<file>.1` … `<file>.<maxFiles - 1>`. */
  readonly file: string;
  readonly maxFiles: number;
  readonly cursorFile: string;
  readonly sink: LogSink;
  readonly retryWaitMs: number;
  /** Failed attempts before a batch is given up (Docker's fluentd-max-retries); default: never. */
  readonly maxRetries?: number;
  /** The most messages one batch holds in memory (fluentd-buffer-limit); default: no count limit. */
  readonly maxMessages?: number;
  readonly onError?: (err: Error, attempt: number) => void;
}

/**
 * Splits complete k8s-file records into messages. conmon writes stdout and stderr records
 * interleaved, so an unfinished line (P records) is kept per stream: `printf a; echo b >&2; echo c`
 * is `b` on stderr and `ac` on stdout, as Docker's per-stream copier sends them.
 *
 * Returns `end`, where a later parse must start again (the first record of a line not sent yet),
 * and `sent`, the end of the last message's last record: a parse from `end` skips the messages
 * that finished at or before `sent` (the other stream's lines that came after an unfinished one).
 * `final` (the container exited, or the file rotated away): unfinished lines are messages too.
 * `limit`: at most this many messages; the parse stops after the record that reached it (and
 * `final` then does not apply: the rest of the buffer is still to come).
 */
export function parseMessages(
  buf: Buffer,
  base: number,
  final = false,
  sentBefore = base,
  limit = Number.POSITIVE_INFINITY,
): { messages: LogMessage[]; end: number; sent: number } {
  // Runs once per line of every container's output: no per-line strings, arrays or `delete`
  // (the profile's top costs were the timestamp string, GC of per-line objects, and the open-line
  // map going to dictionary mode). Times are read from the bytes (TimeCache).
  const messages: LogMessage[] = [];
  const times = new TimeCache();
  let out: Open | undefined;
  let err: Open | undefined;
  let sent = Math.max(sentBefore, base);
  let clean = base;
  const emit = (o: Open, lineEnd: number, flush = false) => {
    if (o.stream === 'stdout') out = undefined;
    else err = undefined;
    // Finished before `sent`: delivered by an earlier batch (a flushed line never was).
    if (!flush && lineEnd <= sentBefore) return;
    messages.push({
      stream: o.stream,
      time: o.time,
      line: o.pieces.length === 1 ? o.pieces[0]! : Buffer.concat(o.pieces),
    });
    sent = Math.max(sent, lineEnd);
  };
  let pos = 0;
  let full = false;
  for (let nl = buf.indexOf(0x0a, pos); nl >= 0 && !full; pos = nl + 1, nl = buf.indexOf(0x0a, pos)) {
    const lineEnd = base + nl + 1;
    const h = parseHeader(buf, pos, nl);
    if (h >= 0) {
      const tag = h >> 2;
      const stream = h & 2 ? 'stderr' : 'stdout';
      const content = buf.subarray(Math.min(tag + 2, nl), nl);
      let o = stream === 'stdout' ? out : err;
      if (!o && h & 1) {
        // The common case: a whole line in one F record, with no line of its stream open.
        if (lineEnd > sentBefore) {
          messages.push({ stream, time: times.read(buf, pos, tag - 8), line: content });
          sent = Math.max(sent, lineEnd);
        }
      } else {
        if (!o) {
          o = { stream, time: times.read(buf, pos, tag - 8), start: base + pos, pieces: [], size: 0 };
          if (stream === 'stdout') out = o;
          else err = o;
        }
        o.pieces.push(content);
        o.size += content.length;
        if (h & 1 || o.size >= MAX_LINE) emit(o, lineEnd);
      }
    }
    // The other stream's unfinished line must not hold the cursor back without bound: past
    // MAX_LINE bytes of interleaved output it is sent as a piece (as an over-long line is).
    if (out && lineEnd - out.start >= MAX_LINE && messages.length < limit) emit(out, lineEnd);
    if (err && lineEnd - err.start >= MAX_LINE && messages.length < limit) emit(err, lineEnd);
    clean = lineEnd;
    full = messages.length >= limit;
  }
  const pending = [out, err].filter((o): o is Open => o !== undefined);
  if (final && !full) {
    pending.sort((a, b) => a.start - b.start);
    for (const o of pending) emit(o, clean, true);
    return { messages, end: clean, sent: clean };
  }
  const end = pending.length > 0 ? Math.min(...pending.map((o) => o.start)) : clean;
  return { messages, end, sent: Math.max(sent, end) };
}

/** A line of one stream whose F record has not come yet. */
interface Open {
  readonly stream: 'stdout' | 'stderr';
  readonly time: Instant;
  readonly start: number;
  readonly pieces: Buffer[];
  size: number;
}

/**
 * Record times from the bytes. conmon writes `YYYY-MM-DDTHH:MM:SS.fffffffff±hh:mm`; consecutive
 * lines mostly share the second and the zone, so only the fraction is read anew when the bytes
 * before it and after it match the last time fully parsed. Anything else goes through
 * parseTimestamp (a bad time becomes now, as before).
 */
class TimeCache {
  #key: Buffer | undefined;
  #sec = 0;
  #zone = 0;

  read(buf: Buffer, start: number, end: number): Instant {
    const dot = start + 19;
    const k = this.#key;
    if (k && end - start === k.length && buf[dot] === 0x2e) {
      // The fraction runs from dot+1 to the zone; the zone is the last 6 bytes (or a final Z).
      const zoneAt = buf[end - 1] === 0x5a ? end - 1 : end - 6;
      let same = true;
      for (let i = 0; i < 19 && same; i++) same = buf[start + i] === k[i];
      for (let i = zoneAt; i < end && same; i++) same = buf[i] === k[i - start];
      if (same && zoneAt - start === this.#zone) {
        let nsec = 0;
        let digits = 0;
        for (let i = dot + 1; i < zoneAt; i++) {
          const c = buf[i]! - 0x30;
          if (c < 0 || c > 9) {
            digits = -1;
            break;
          }
          if (digits < 9) nsec = nsec * 10 + c;
          digits++;
        }
        if (digits > 0) {
          for (; digits < 9; digits++) nsec *= 10;
          return { sec: this.#sec, nsec };
        }
      }
    }
    const t = parseTimestamp(buf.toString('latin1', start, end));
    if (!t) return { sec: Math.floor(Date.now() / 1000), nsec: 0 };
    this.#key = Buffer.from(buf.subarray(start, end));
    this.#sec = t.sec;
    this.#zone = buf[end - 1] === 0x5a ? end - 1 - start : end - 6 - start;
    return t;
  }
}

export async function readCursor(file: string): Promise<Cursor | undefined> {
  try {
    const c = JSON.parse(await fsp.readFile(file, 'utf8')) as Cursor;
    if (typeof c.ino !== 'number' || typeof c.offset !== 'number') return undefined;
    const sent = typeof c.sent === 'number' && c.sent > c.offset ? { sent: c.sent } : {};
    const b = c.batch;
    const batch =
      b && typeof b.end === 'number' && b.end > c.offset && typeof b.final === 'boolean'
        ? { batch: { end: b.end, final: b.final } }
        : {};
    return { ino: c.ino, offset: c.offset, ...sent, ...batch };
  } catch {
    return undefined;
  }
}

export class LogShipper {
  readonly #o: ShipperOptions;
  #cursor: Cursor | undefined;
  #stopped = false;
  #finishing = false;
  #wake: (() => void) | undefined;
  /** A change seen while not sleeping: the next sleep returns at once. */
  #poked = false;
  #stopWake: (() => void) | undefined;
  #ended = false;
  #watcher: FSWatcher | undefined;
  /** The live log's inode when last looked at. */
  #liveIno: number | undefined;
  #done: Promise<void> | undefined;
  /** Lines handed to the sink since start (for tests and stats). */
  delivered = 0;

  constructor(o: ShipperOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#done) return;
    try {
      const base = path.basename(this.#o.file);
      this.#watcher = watch(path.dirname(this.#o.file), (_e, name) => {
        if (!name || String(name).startsWith(base)) this.#poke();
      });
      this.#watcher.on('error', () => {});
    } catch {
      // Without inotify the idle check below still finds new lines.
    }
    this.#done = this.#run();
  }

  /** The container exited: deliver what the log holds, then stop. */
  finish(): Promise<void> {
    this.#finishing = true;
    this.#poke();
    this.start();
    return this.#done ?? Promise.resolve();
  }

  /** The container started again before a finish was done: keep going. False if it ended. */
  resume(): boolean {
    if (this.#ended || this.#stopped) return false;
    this.#finishing = false;
    return true;
  }

  /** Stops at once (daemon shutdown, container removed); the cursor stays for the next start. */
  stop(): void {
    this.#stopped = true;
    this.#poke();
    this.#stopWake?.();
    this.#watcher?.close();
    this.#o.sink.close();
  }

  #poke(): void {
    if (this.#wake) this.#wake();
    else this.#poked = true;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#poked || this.#stopped) {
      this.#poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** A retry's wait: new lines do not cut it short, a stop does. */
  #backoff(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#stopWake = undefined;
        resolve();
      }, ms);
      this.#stopWake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** The files that may hold the cursor, oldest first, with their inodes. */
  async #files(): Promise<{ file: string; ino: number; size: number }[]> {
    const out: { file: string; ino: number; size: number }[] = [];
    for (let i = this.#o.maxFiles - 1; i >= 0; i--) {
      const f = i === 0 ? this.#o.file : `${this.#o.file}.${i}`;
      const st = await fsp.stat(f).catch(() => undefined);
      if (st) out.push({ file: f, ino: st.ino, size: st.size });
      if (st && i === 0) this.#liveIno = st.ino;
    }
    return out;
  }

  /**
   * How many of the rotated files (inodes, oldest first) are delivered, so may be compressed:
   * those before the cursor's file. The shipper reads plain files only.
   */
  finishedFiles(oldestFirst: readonly number[]): number {
    const c = this.#cursor;
    if (!c) return 0;
    const i = oldestFirst.indexOf(c.ino);
    if (i >= 0) return i;
    return c.ino === this.#liveIno ? oldestFirst.length : 0;
  }

  /**
   * Reads the next batch after the cursor. A cursor that names the batch in flight (written
   * before a crash) reads exactly that extent again.
   */
  async #next(): Promise<Batch | undefined> {
    const files = await this.#files();
    if (files.length === 0) return undefined;
    let i = this.#cursor ? files.findIndex((f) => f.ino === this.#cursor!.ino) : -1;
    // No cursor yet, or its file rotated away: start at the oldest file still kept.
    if (i < 0) this.#cursor = { ino: files[0]!.ino, offset: 0 };
    i = Math.max(i, 0);
    let f = files[i]!;
    let at = this.#cursor!;
    // A replaced file (conmon's own rotation at --log-size-max while berthd was down) is shorter.
    if (Math.max(at.sent ?? 0, at.batch?.end ?? 0, at.offset) > f.size) at = { ino: f.ino, offset: 0 };
    if (at.offset === f.size && i < files.length - 1) {
      // The rest is in the next newer file.
      f = files[i + 1]!;
      at = { ino: f.ino, offset: 0 };
    }
    this.#cursor = at;
    const fh = await fsp.open(f.file, 'r').catch(() => undefined);
    if (!fh) return undefined;
    try {
      const st = await fh.stat();
      if (st.ino !== f.ino) return undefined; // rotated between stat and open: look again
      const len = at.batch ? at.batch.end - at.offset : Math.min(BATCH_BYTES, st.size - at.offset);
      if (len <= 0) return undefined;
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, at.offset);
      if (at.batch && bytesRead !== len) return undefined;
      const readEnd = at.offset + bytesRead;
      // A line conmon split across a rotation ends one file with a P record: sent as a piece.
      // The newest file's unfinished line is finished only once the container has exited.
      const final = at.batch
        ? at.batch.final
        : (this.#finishing || f !== files.at(-1)) && readEnd === st.size;
      const { messages, end, sent } = parseMessages(
        buf.subarray(0, bytesRead),
        at.offset,
        final,
        at.sent,
        this.#o.maxMessages,
      );
      if (end === at.offset && sent === (at.sent ?? at.offset)) return undefined;
      const from: Cursor =
        at.sent !== undefined
          ? { ino: at.ino, offset: at.offset, sent: at.sent }
          : { ino: at.ino, offset: at.offset };
      return {
        messages,
        // Where the batch lies: the same extent read again gives the same lines.
        name: `${f.ino}:${at.offset}:${at.sent ?? at.offset}-${readEnd}${final ? ':final' : ''}`,
        extent: { end: readEnd, final },
        from,
        cursor: sent > end ? { ino: f.ino, offset: end, sent } : { ino: f.ino, offset: end },
      };
    } finally {
      await fh.close();
    }
  }

  #checkpoint(c: Cursor): Promise<void> {
    return atomicWriteFile(this.#o.cursorFile, JSON.stringify(c), { mode: 0o600 }).catch(() => {});
  }

  async #run(): Promise<void> {
    this.#cursor = await readCursor(this.#o.cursorFile);
    let attempt = 0;
    /** A batch that failed: it is sent again as it was (same lines, same name). */
    let retry: Batch | undefined;
    while (!this.#stopped) {
      const batch = retry ?? (await this.#next().catch(() => undefined));
      retry = undefined;
      if (!batch) {
        if (this.#finishing) break;
        await this.#sleep(IDLE_CHECK_MS);
        continue;
      }
      try {
        if (batch.messages.length > 0) {
          // The receiver dedupes by name: a crash before the ack must resend this very batch.
          if (this.#o.sink.namesBatches && attempt === 0)
            await this.#checkpoint({ ...batch.from, batch: batch.extent });
          await this.#o.sink.write(batch.messages, batch.name);
        }
        attempt = 0;
      } catch (err) {
        attempt++;
        this.#o.sink.reset();
        this.#o.onError?.(err as Error, attempt);
        const max = this.#o.maxRetries;
        if (max === undefined || attempt <= max) {
          const wait = Math.min(
            this.#o.retryWaitMs * 2 ** (attempt - 1),
            Math.max(this.#o.retryWaitMs, MAX_BACKOFF_MS),
          );
          await this.#backoff(wait);
          retry = batch;
          continue;
        }
        // Retries exhausted (only with an explicit max-retries): the batch is given up, as Docker's.
        attempt = 0;
      }
      if (this.#stopped) break;
      this.delivered += batch.messages.length;
      this.#cursor = batch.cursor;
      await this.#checkpoint(batch.cursor);
    }
    this.#ended = true;
    this.#watcher?.close();
    if (!this.#stopped) this.#o.sink.close();
  }
}
