// The CRI "k8s-file" log format that conmon writes, one record per line:
//   <RFC3339Nano time> <stdout|stderr> <F|P> <content>\n
// `F` records end a line of output (the process wrote a newline after the content); `P` records
// are pieces of a longer line (conmon splits at its 8 KiB read buffer, or the process wrote no
// newline yet). The parser works on Buffers: a record's `data` is a view into the chunk it was
// read from (F records keep the file's own '\n'), and only the timestamp becomes a string.

export type LogStream = 'stdout' | 'stderr';

/** One record as the process wrote it. */
export interface LogRecord {
  readonly stream: LogStream;
  /** The record's RFC3339Nano timestamp, exactly as in the file. */
  readonly time: string;
  /** The bytes the process wrote: content plus '\n' for F records, no newline for P records. */
  readonly data: Buffer;
}

/**
 * Receives each parsed record with the file offset of the line it came from (fragments of one
 * long line share the offset) and whether it ends a line (an F record's last piece).
 */
export type RecordSink = (record: LogRecord, lineOffset: number, endsLine: boolean) => void;

export interface ParserOptions {
  /**
   * The most bytes of one incomplete line the parser keeps. A longer line is passed on in pieces
   * as it arrives (each piece without a newline; the last one gets the F record's '\n'), so memory
   * stays bounded; such a line is then emitted even if the file ends before its newline.
   * Default 1 MiB.
   */
  readonly maxLineBytes?: number;
  /** File offset of the first byte pushed. Default 0. */
  readonly offset?: number;
}

const NL = 0x0a;
const SPACE = 0x20;
const NEWLINE = Buffer.from('\n');

/** The longest timestamp accepted (RFC3339 with 9 fractional digits and a numeric offset is 35). */
const MAX_TIME_LEN = 40;
const MIN_TIME_LEN = 20;

/**
 * Parses the header of the line starting at `start` and ending before `end` (the '\n' position,
 * or the end of the bytes available). Returns -1 for lines that are not k8s-file records, else
 * `tag * 4 + flags`: `tag` is the offset of the F/P tag (the timestamp ends at `tag - 8`, the
 * content starts at `min(tag + 2, end)`), flags are STDERR and FULL. A number rather than an
 * object: this runs once per record.
 */
export function parseHeader(buf: Buffer, start: number, end: number): number {
  // Timestamp: `YYYY-MM-DDTHH:MM:SS...` up to the first space.
  const limit = Math.min(end, start + MAX_TIME_LEN + 1);
  let sp = -1;
  for (let i = start + MIN_TIME_LEN - 1; i < limit; i++) {
    if (buf[i] === SPACE) {
      sp = i;
      break;
    }
  }
  if (sp < 0) return -1;
  if (
    buf[start + 4] !== 0x2d || // -
    buf[start + 7] !== 0x2d ||
    buf[start + 10] !== 0x54 || // T
    buf[start + 13] !== 0x3a || // :
    buf[start + 16] !== 0x3a ||
    !isDigit(buf[start]) ||
    !isDigit(buf[start + 18])
  ) {
    return -1;
  }
  // Stream: `stdout` or `stderr`, then a space.
  const s = sp + 1;
  if (s + 8 > end) return -1;
  if (buf[s] !== 0x73 || buf[s + 1] !== 0x74 || buf[s + 2] !== 0x64 || buf[s + 6] !== SPACE) return -1; // std
  let flags: number;
  const a = buf[s + 3];
  const b = buf[s + 4];
  const c = buf[s + 5];
  if (a === 0x6f && b === 0x75 && c === 0x74) flags = 0;
  else if (a === 0x65 && b === 0x72 && c === 0x72) flags = STDERR;
  else return -1;
  // Tag: `F` or `P`, then a space before the content (or the end of the line when it is empty).
  const t = s + 7;
  const tag = buf[t];
  if (tag === 0x46) flags |= FULL;
  else if (tag !== 0x50) return -1;
  if (t + 1 < end && buf[t + 1] !== SPACE) return -1;
  return t * 4 + flags;
}

export const STDERR = 2;
export const FULL = 1;

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

/** Buffer's internal latin1 decoder: `toString('latin1', a, b)` without argument checks. */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

/** A line whose header was parsed and whose content is being passed on piece by piece. */
interface Continuing {
  readonly stream: LogStream;
  readonly time: string;
  readonly full: boolean;
  readonly offset: number;
}

/**
 * A push parser: feed it chunks in file order; it calls `sink` for every complete record. An
 * incomplete last line is kept until more bytes arrive, or until `flush()` (the writer is gone).
 * Lines that are not records (garbage) are skipped.
 */
export class K8sFileParser {
  readonly #sink: RecordSink;
  readonly #maxLine: number;
  /** File offset of the next byte to be pushed. */
  #offset: number;
  /** Bytes of an incomplete line, not yet passed on. */
  #pending: Buffer[] = [];
  #pendingLen = 0;
  #cont: Continuing | undefined;
  /** Inside an over-long line that is not a record: drop bytes up to the next newline. */
  #skipping = false;
  #lineStart: number;
  /** The previous record's time: consecutive records often share it (one read by conmon). */
  #lastTime = '';
  #lastView: DataView | undefined;
  #lastStart = 0;
  #lastLen = 0;
  /** A DataView of the buffer being parsed (for #time). */
  #viewBuf: Buffer | undefined;
  #view: DataView | undefined;
  /** Lines skipped as garbage since the parser was created. */
  skipped = 0;

  constructor(sink: RecordSink, opts: ParserOptions = {}) {
    this.#sink = sink;
    this.#maxLine = Math.min(64 << 20, Math.max(256, opts.maxLineBytes ?? 1 << 20));
    this.#offset = opts.offset ?? 0;
    this.#lineStart = this.#offset;
  }

  /** File offset of the next byte expected. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes of an incomplete line held (not yet passed on). */
  get pendingBytes(): number {
    return this.#pendingLen;
  }

  /** True while the parser is in the middle of a line (some bytes of it were pushed). */
  get midLine(): boolean {
    return this.#pendingLen > 0 || this.#cont !== undefined || this.#skipping;
  }

  /** Forgets any incomplete line and starts again at `offset` (after truncation or rotation). */
  reset(offset = 0): void {
    this.#pending = [];
    this.#pendingLen = 0;
    this.#cont = undefined;
    this.#skipping = false;
    this.#offset = offset;
    this.#lineStart = offset;
  }

  /**
   * Parses the next bytes of the file. Records' `data` are views into `chunk` (no copies), so the
   * caller must not reuse or modify it afterwards.
   */
  push(chunk: Buffer): void {
    const len = chunk.length;
    if (len === 0) return;
    const base = this.#offset;
    this.#offset += len;
    let pos = 0;
    if (this.#pendingLen > 0 || this.#cont !== undefined || this.#skipping) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.#more(chunk);
        return;
      }
      this.#finishLine(chunk, nl);
      pos = nl + 1;
    }
    // The hot loop: every line wholly inside this chunk.
    const sink = this.#sink;
    const ab = chunk.buffer;
    const abOff = chunk.byteOffset;
    for (;;) {
      const nl = chunk.indexOf(NL, pos);
      if (nl < 0) break;
      const h = parseHeader(chunk, pos, nl);
      if (h < 0) this.skipped++;
      else {
        const t = h >> 2;
        const full = (h & FULL) !== 0;
        const cs = t + 2 < nl ? t + 2 : nl;
        sink(
          {
            stream: h & STDERR ? 'stderr' : 'stdout',
            time: this.#time(chunk, pos, t - 8),
            data: Buffer.from(ab, abOff + cs, (full ? nl + 1 : nl) - cs),
          },
          base + pos,
          full,
        );
      }
      pos = nl + 1;
    }
    this.#lineStart = base + pos;
    if (pos < len) this.#more(pos === 0 ? chunk : chunk.subarray(pos));
  }

  /**
   * Passes on the incomplete last line as a record, if it is one: call when the writer has
   * finished (the container exited), so a line without its newline is final. An F record gets its
   * '\n'; a P record is passed on as written.
   */
  flush(): void {
    if (this.#pendingLen > 0) {
      const line = Buffer.concat(this.#pending, this.#pendingLen);
      const h = parseHeader(line, 0, line.length);
      if (h < 0) this.skipped++;
      else {
        const t = h >> 2;
        const full = (h & FULL) !== 0;
        const content = line.subarray(Math.min(t + 2, line.length));
        this.#sink(
          {
            stream: h & STDERR ? 'stderr' : 'stdout',
            time: this.#time(line, 0, t - 8),
            data: full ? Buffer.concat([content, NEWLINE]) : content,
          },
          this.#lineStart,
          full,
        );
      }
    } else if (this.#cont?.full) {
      const cont = this.#cont;
      this.#sink({ stream: cont.stream, time: cont.time, data: NEWLINE }, cont.offset, true);
    }
    this.#pending = [];
    this.#pendingLen = 0;
    this.#cont = undefined;
    this.#skipping = false;
    this.#lineStart = this.#offset;
  }

  /**
   * The timestamp bytes [start, end) of `buf` as a string. Consecutive records usually share the
   * timestamp (conmon stamps everything from one read alike), so compare with the previous one
   * four bytes at a time and reuse its string when equal: cheaper than decoding.
   */
  #time(buf: Buffer, start: number, end: number): string {
    const n = end - start;
    if (buf !== this.#viewBuf) {
      this.#viewBuf = buf;
      this.#view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    }
    const view = this.#view!;
    const lastView = this.#lastView;
    if (lastView !== undefined && n === this.#lastLen) {
      const ls = this.#lastStart;
      let same = true;
      // n >= MIN_TIME_LEN: the words overlap at the front instead of a byte-wise remainder.
      for (let i = n - 4; ; i -= 4) {
        if (i < 0) i = 0;
        if (view.getUint32(start + i) !== lastView.getUint32(ls + i)) {
          same = false;
          break;
        }
        if (i === 0) break;
      }
      if (same) {
        this.#lastView = view;
        this.#lastStart = start;
        return this.#lastTime;
      }
    }
    const str = (buf as unknown as Latin1Slicer).latin1Slice(start, end);
    this.#lastTime = str;
    this.#lastView = view;
    this.#lastStart = start;
    this.#lastLen = n;
    return str;
  }

  /** Bytes of the current line with no newline among them. */
  #more(bytes: Buffer): void {
    if (this.#skipping) return;
    const cont = this.#cont;
    if (cont) {
      this.#sink({ stream: cont.stream, time: cont.time, data: bytes }, cont.offset, false);
      return;
    }
    this.#pending.push(bytes);
    this.#pendingLen += bytes.length;
    if (this.#pendingLen > this.#maxLine) this.#startStreaming();
  }

  /** The current line ends at chunk[nl]. */
  #finishLine(chunk: Buffer, nl: number): void {
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    const cont = this.#cont;
    if (cont) {
      this.#cont = undefined;
      const data = chunk.subarray(0, cont.full ? nl + 1 : nl);
      if (data.length > 0) this.#sink({ stream: cont.stream, time: cont.time, data }, cont.offset, cont.full);
      return;
    }
    this.#pending.push(chunk.subarray(0, nl + 1));
    const line = Buffer.concat(this.#pending, this.#pendingLen + nl + 1);
    this.#pending = [];
    this.#pendingLen = 0;
    const end = line.length - 1;
    const h = parseHeader(line, 0, end);
    if (h < 0) {
      this.skipped++;
      return;
    }
    const t = h >> 2;
    const full = (h & FULL) !== 0;
    this.#sink(
      {
        stream: h & STDERR ? 'stderr' : 'stdout',
        time: this.#time(line, 0, t - 8),
        data: line.subarray(Math.min(t + 2, end), full ? end + 1 : end),
      },
      this.#lineStart,
      full,
    );
  }

  /** The incomplete line outgrew the limit: pass on what we have and continue piece by piece. */
  #startStreaming(): void {
    const line = Buffer.concat(this.#pending, this.#pendingLen);
    this.#pending = [];
    this.#pendingLen = 0;
    const h = parseHeader(line, 0, line.length);
    if (h < 0) {
      this.skipped++;
      this.#skipping = true;
      return;
    }
    const t = h >> 2;
    const stream: LogStream = h & STDERR ? 'stderr' : 'stdout';
    const time = this.#time(line, 0, t - 8);
    this.#cont = { stream, time, full: (h & FULL) !== 0, offset: this.#lineStart };
    const cs = Math.min(t + 2, line.length);
    if (cs < line.length) this.#sink({ stream, time, data: line.subarray(cs) }, this.#lineStart, false);
  }
}

/** Parses a whole buffer of complete lines (a test and tooling convenience). */
export function parseK8sFile(buf: Buffer, opts: { final?: boolean } = {}): LogRecord[] {
  const out: LogRecord[] = [];
  const p = new K8sFileParser((r) => out.push(r));
  p.push(buf);
  if (opts.final) p.flush();
  return out;
}

/** A point in time as whole seconds since the epoch plus nanoseconds. */
export interface Instant {
  readonly sec: number;
  readonly nsec: number;
}

/**
 * Parses an RFC3339 timestamp with up to 9 fractional digits and a `Z` or `±HH:MM` offset.
 * Returns undefined for anything else. Runs per record when filtering by time: plain arithmetic,
 * no Date, regex or substrings.
 */
export function parseTimestamp(ts: string): Instant | undefined {
  const n = ts.length;
  if (n < 20) return undefined;
  const year = num(ts, 0, 4);
  const month = num(ts, 5, 2);
  const day = num(ts, 8, 2);
  const hh = num(ts, 11, 2);
  const mm = num(ts, 14, 2);
  const ss = num(ts, 17, 2);
  const t = ts.charCodeAt(10);
  if (
    ts.charCodeAt(4) !== 0x2d ||
    ts.charCodeAt(7) !== 0x2d ||
    (t !== 0x54 && t !== 0x74) ||
    ts.charCodeAt(13) !== 0x3a ||
    ts.charCodeAt(16) !== 0x3a ||
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    hh < 0 ||
    hh > 23 ||
    mm < 0 ||
    mm > 59 ||
    ss < 0 ||
    ss > 60
  ) {
    return undefined;
  }
  let i = 19;
  let nsec = 0;
  if (ts.charCodeAt(i) === 0x2e) {
    i++;
    let digits = 0;
    for (; i < n; i++) {
      const c = ts.charCodeAt(i) - 0x30;
      if (c < 0 || c > 9) break;
      if (digits < 9) nsec = nsec * 10 + c;
      digits++;
    }
    if (digits === 0) return undefined;
    for (; digits < 9; digits++) nsec *= 10;
  }
  let off = 0;
  const z = ts.charCodeAt(i);
  if ((z === 0x5a || z === 0x7a) && i + 1 === n) off = 0;
  else if ((z === 0x2b || z === 0x2d) && i + 6 === n && ts.charCodeAt(i + 3) === 0x3a) {
    const oh = num(ts, i + 1, 2);
    const om = num(ts, i + 4, 2);
    if (oh < 0 || om < 0) return undefined;
    off = (oh * 3600 + om * 60) * (z === 0x2b ? 1 : -1);
  } else return undefined;
  return { sec: daysFromCivil(year, month, day) * 86400 + hh * 3600 + mm * 60 + ss - off, nsec };
}

/** The decimal number in s[at, at+len), or -1 if a character is not a digit. */
function num(s: string, at: number, len: number): number {
  let v = 0;
  for (let i = at; i < at + len; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (the usual era-based day count). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * conmon's timestamps all have one fixed-width UTC form (`2026-11-22T07:23:30.449451672+00:00`),
 * in which string order is time order: filters compare such timestamps as strings instead of
 * parsing each. These two give that form for an Instant (undefined outside years 0000-9999) and
 * tell whether a timestamp has it.
 */
export function fixedUtcTimestamp(at: Instant): string | undefined {
  const d = new Date(at.sec * 1000);
  const year = d.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) return undefined;
  return `${d.toISOString().slice(0, 19)}.${String(at.nsec).padStart(9, '0')}+00:00`;
}

export function isFixedUtcTimestamp(ts: string): boolean {
  return (
    ts.length === 35 &&
    ts.charCodeAt(19) === 0x2e &&
    ts.charCodeAt(29) === 0x2b &&
    ts.charCodeAt(30) === 0x30 &&
    ts.charCodeAt(31) === 0x30 &&
    ts.charCodeAt(32) === 0x3a &&
    ts.charCodeAt(33) === 0x30 &&
    ts.charCodeAt(34) === 0x30
  );
}

/** Converts fractional unix seconds to an Instant (nanoseconds rounded). */
export function instantFromSeconds(seconds: number): Instant {
  let sec = Math.floor(seconds);
  let nsec = Math.round((seconds - sec) * 1e9);
  if (nsec >= 1e9) {
    sec += 1;
    nsec -= 1e9;
  }
  return { sec, nsec };
}

/** Negative, zero or positive as a is before, equal to or after b. */
export function compareInstants(a: Instant, b: Instant): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nsec - b.nsec;
}
