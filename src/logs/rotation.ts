// Docker's json-file `max-size` + `max-file` over conmon's k8s-file log. conmon alone can only
// replace a full log (its --log-size-max), which is `max-file=1`. For more files berthd rotates:
// when the log passes max-size it shifts `log` → `log.1` → … → `log.<max-file - 1>` and asks
// conmon to reopen the log (a new, empty file at the same path). Readers go through the rotated
// files oldest first, then the live one.
import { type FSWatcher, promises as fsp, watch } from 'node:fs';
import path from 'node:path';
import { compressRotated, type FinishedFiles } from './compress.ts';
import type { LogRecord } from './k8s-file.ts';
import { type ReadLogsOptions, readLogBatches } from './reader.ts';

const exists = (f: string) =>
  fsp.stat(f).then(
    () => true,
    () => false,
  );

/**
 * The rotated files that exist, oldest first (`log.3`, `log.2`, `log.1`), by their plain names
 * even when compressed (`log.3.gz`): readers open them with compress.ts's openLog.
 */
export async function rotatedFiles(file: string, maxFiles: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = maxFiles - 1; i >= 1; i--) {
    const f = `${file}.${i}`;
    if ((await exists(f)) || (await exists(`${f}.gz`))) out.push(f);
  }
  return out;
}

/** Shifts `log.(n-1)` … `log` up by one (compressed ones too); the oldest beyond max-file is dropped. */
export async function shiftLogs(file: string, maxFiles: number): Promise<void> {
  await fsp.rm(`${file}.${maxFiles - 1}`, { force: true });
  await fsp.rm(`${file}.${maxFiles - 1}.gz`, { force: true });
  for (let i = maxFiles - 2; i >= 1; i--) {
    for (const ext of ['', '.gz'])
      await fsp.rename(`${file}.${i}${ext}`, `${file}.${i + 1}${ext}`).catch(() => {});
  }
  await fsp.rename(file, `${file}.1`);
}

const lineCount = (batch: LogRecord[]) => batch.filter((r) => r.data.at(-1) === 0x0a).length;

/**
 * readLogBatches over the rotated files and then the live one. A tail of n lines takes what
 * the newer files lack from the older ones.
 */
export async function* readRotatedBatches(
  file: string,
  maxFiles: number,
  opts: ReadLogsOptions = {},
): AsyncGenerator<LogRecord[]> {
  const older = maxFiles > 1 ? await rotatedFiles(file, maxFiles) : [];
  const tail = opts.tail === undefined || opts.tail === 'all' || opts.tail < 0 ? undefined : opts.tail;
  const tails = new Map<string, number | 'all'>();
  if (tail !== undefined && older.length > 0) {
    let need = tail;
    for (const f of [file, ...[...older].reverse()]) {
      if (need <= 0) {
        tails.set(f, 0);
        continue;
      }
      tails.set(f, need);
      let have = 0;
      for await (const b of readLogBatches(f, { ...opts, follow: false, tail: need, since: 0, until: 0 }))
        have += lineCount(b);
      need -= have;
    }
  }
  for (const f of older) {
    const t = tails.get(f) ?? 'all';
    if (t === 0) continue;
    yield* readLogBatches(f, { ...opts, follow: false, tail: t, exited: Promise.resolve() });
  }
  yield* readLogBatches(file, opts);
}

/**
 * Watches one container's log and rotates it past `maxSize`. Checks are coalesced: at most one
 * stat per `checkMs` however chatty the container is.
 */
export class LogRotator {
  readonly #file: string;
  readonly #maxSize: number;
  readonly #maxFiles: number;
  readonly #reopen: () => Promise<void>;
  readonly #checkMs: number;
  readonly #compress: boolean;
  readonly #finished: FinishedFiles | undefined;
  /** Rotated files left plain (their shipper had not finished them): compress on a later check. */
  #owed = false;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #poll: NodeJS.Timeout | undefined;

  constructor(opts: {
    file: string;
    maxSize: number;
    maxFiles: number;
    reopen: () => Promise<void>;
    checkMs?: number;
    /** gzip the rotated files (Docker's compress / cache-compress). */
    compress?: boolean;
    /** Holds back the files a shipper still reads (see FinishedFiles). */
    finished?: FinishedFiles;
  }) {
    this.#file = opts.file;
    this.#maxSize = opts.maxSize;
    this.#maxFiles = opts.maxFiles;
    this.#reopen = opts.reopen;
    this.#checkMs = opts.checkMs ?? 200;
    this.#compress = opts.compress === true;
    this.#finished = opts.finished;
  }

  start(): void {
    try {
      this.#watcher = watch(path.dirname(this.#file), () => this.#schedule());
      this.#watcher.on('error', () => {});
    } catch {
      // Without inotify, poll.
      this.#poll = setInterval(() => void this.#check(), 1000);
      this.#poll.unref();
    }
    this.#schedule();
  }

  stop(): void {
    this.#watcher?.close();
    if (this.#poll) clearInterval(this.#poll);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watcher = undefined;
  }

  #schedule(): void {
    if (this.#timer || !this.#watcher) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#check();
    }, this.#checkMs);
    this.#timer.unref();
  }

  /** Whether the oldest rotated file, the one a rotation deletes, is not delivered yet. */
  async #oldestHeld(): Promise<boolean> {
    if (!this.#finished || this.#maxFiles < 2) return false;
    // Only delivered files are compressed, so the plain ones are those a shipper may still read.
    const plain: number[] = [];
    for (let i = this.#maxFiles - 1; i >= 1; i--) {
      const st = await fsp.stat(`${this.#file}.${i}`).catch(() => undefined);
      if (i === this.#maxFiles - 1 && !st) return false;
      if (st) plain.push(st.ino);
    }
    return this.#finished(plain) < 1;
  }

  async #check(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const st = await fsp.stat(this.#file).catch(() => undefined);
      // A rotation deletes the oldest file: while the shipper has not delivered it, the live file
      // may grow to twice max-size first (one extra file's worth) so a receiver that falls a
      // little behind loses nothing; past that the cache's bound wins (docs/logging.md).
      if (st && st.size >= this.#maxSize && (st.size >= 2 * this.#maxSize || !(await this.#oldestHeld()))) {
        await shiftLogs(this.#file, this.#maxFiles);
        // conmon keeps writing to the renamed file until it reopens: nothing is lost.
        await this.#reopen();
        this.#owed = this.#compress;
      }
      // Only once conmon has reopened (it closes the old file, then renames a new one into
      // place): until then it may still write to `log.1`. Its rename wakes a later check.
      if (this.#owed && (await fsp.stat(this.#file).catch(() => undefined)))
        this.#owed = await compressRotated(this.#file, this.#maxFiles, this.#finished);
    } catch {
      // A failed compression leaves plain files, still read; the next check tries again.
    } finally {
      this.#busy = false;
    }
  }
}
