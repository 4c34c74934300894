// Docker's multiplexed stream framing (the API's `application/vnd.docker.multiplexed-stream`,
// used by logs, attach and exec without a TTY): each frame is an 8-byte header — stream id
// (0 stdin, 1 stdout, 2 stderr), three zero bytes, payload length as uint32 big-endian — then the
// payload. Also the `docker logs -t` timestamp.
import { InternalError, InvalidArgumentError } from '../errdefs/index.ts';
import { type LogRecord, parseTimestamp } from './k8s-file.ts';

export type FrameStream = 'stdin' | 'stdout' | 'stderr';

export interface Frame {
  readonly stream: FrameStream;
  readonly data: Buffer;
}

const HEADER = 8;
const MAX_PAYLOAD = 0xffffffff;
const IDS: Record<FrameStream, number> = { stdin: 0, stdout: 1, stderr: 2 };
const NAMES: readonly FrameStream[] = ['stdin', 'stdout', 'stderr'];

/** One frame: header and payload in a single Buffer. */
export function muxFrame(stream: FrameStream, data: Buffer): Buffer {
  if (data.length > MAX_PAYLOAD) {
    throw new InvalidArgumentError('FRAME_TOO_LARGE', `a frame holds at most ${MAX_PAYLOAD} bytes`);
  }
  const out = Buffer.allocUnsafe(HEADER + data.length);
  writeHeader(out, 0, stream, data.length);
  data.copy(out, HEADER);
  return out;
}

/** Only the 8-byte header, for writers that send the payload separately (no copy). */
export function frameHeader(stream: FrameStream, length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_PAYLOAD) {
    throw new InvalidArgumentError('FRAME_TOO_LARGE', `a frame holds at most ${MAX_PAYLOAD} bytes`);
  }
  const out = Buffer.allocUnsafe(HEADER);
  writeHeader(out, 0, stream, length);
  return out;
}

function writeHeader(out: Buffer, at: number, stream: FrameStream, length: number): void {
  out[at] = IDS[stream];
  out[at + 1] = 0;
  out[at + 2] = 0;
  out[at + 3] = 0;
  out.writeUInt32BE(length, at + 4);
}

/**
 * How log records become frames: Docker's frame per record, or each stream's consecutive
 * records in one frame (payloads joined, at most MERGE_MAX bytes a frame). The demultiplexed
 * bytes are the same; only clients that see frame boundaries (an SDK's per-frame iterator) can
 * tell.
 */
export type LogFraming = 'per-record' | 'merged';

/**
 * The framing a `logs` client gets, by its User-Agent. The docker CLI (`Docker-Client/…`) only
 * copies the demultiplexed bytes to its stdout, with a syscall per frame: a frame per 100-byte
 * line caps it near 40 MB/s, so it gets merged frames. Every other client keeps Docker's frame
 * per record (docker-py's `logs(stream=True)` yields a frame as a line).
 */
export function logFramingFor(userAgent: string | undefined): LogFraming {
  return /^Docker-Client\//.test(userAgent ?? '') ? 'merged' : 'per-record';
}

export interface MuxLogOptions {
  /** `docker logs -t`: each record's timestamp and a space before its data. */
  readonly timestamps?: boolean | undefined;
  /** Default 'per-record', as Docker frames. */
  readonly framing?: LogFraming | undefined;
}

/** Largest payload of a merged frame (records longer than this still get one frame each). */
export const MERGE_MAX = 1 << 20;

/**
 * Frames log records into one Buffer (one frame per record unless merged), optionally with the
 * `docker logs -t` timestamp and a space before each record's data, as Docker sends them.
 */
export function muxLogRecords(records: readonly LogRecord[], opts: MuxLogOptions = {}): Buffer {
  const ts = opts.timestamps === true;
  const merge = opts.framing === 'merged';
  let size = 0;
  // Consecutive records mostly share a time: format each distinct one once, copy it after that.
  const stamps: string[] = ts ? new Array<string>(records.length) : [];
  /** With merge: the payload length of the frame each record starts (-1: it joins the previous). */
  const frameLen: number[] = merge ? new Array<number>(records.length) : [];
  let lastTime = '';
  let lastStamp = '';
  let open = -1; // index of the record that started the current merged frame
  let openStream = '';
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    let n = r.data.length;
    if (ts) {
      if (r.time !== lastTime) {
        lastTime = r.time;
        lastStamp = `${formatTimestamp(r.time)} `;
      }
      stamps[i] = lastStamp;
      n += lastStamp.length;
    }
    size += n;
    if (!merge) size += HEADER;
    else if (open >= 0 && r.stream === openStream && frameLen[open]! + n <= MERGE_MAX) {
      frameLen[open] = frameLen[open]! + n;
      frameLen[i] = -1;
    } else {
      open = i;
      openStream = r.stream;
      frameLen[i] = n;
      size += HEADER;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  let prevStamp = '';
  let prevAt = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const data = r.data;
    if (merge) {
      const len = frameLen[i]!;
      if (len >= 0) {
        writeHeader(out, at, r.stream, len);
        at += HEADER;
      }
    }
    if (!ts) {
      if (!merge) {
        writeHeader(out, at, r.stream, data.length);
        at += HEADER;
      }
    } else {
      const s = stamps[i]!;
      if (!merge) {
        writeHeader(out, at, r.stream, s.length + data.length);
        at += HEADER;
      }
      if (s === prevStamp) out.copyWithin(at, prevAt, prevAt + s.length);
      else {
        out.write(s, at, 'latin1');
        prevStamp = s;
      }
      prevAt = at;
      at += s.length;
    }
    out.set(data, at);
    at += data.length;
  }
  return out;
}

/**
 * Splits a multiplexed byte stream into frames. Frames may be split across or packed into chunks
 * in any way. Throws InvalidArgumentError on an unknown stream id or a stream ending mid-frame,
 * and InternalError for Docker's "system error" frames (id 3), whose payload is the message.
 */
export async function* demux(
  source: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<Frame, void, undefined> {
  // Chunks not yet consumed, from parts[first]; `head` bytes of that one are. Joined only per frame.
  let parts: Buffer[] = [];
  let first = 0;
  let head = 0;
  let avail = 0;
  const next = (): void => {
    head = 0;
    if (++first === parts.length) {
      parts = [];
      first = 0;
    }
  };
  /** Removes and returns the next n bytes (n <= avail). */
  const takeBytes = (n: number): Buffer => {
    avail -= n;
    const p0 = parts[first]!;
    if (p0.length - head >= n) {
      const out = p0.subarray(head, head + n);
      head += n;
      if (head === p0.length) next();
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const p = parts[first]!;
      const k = Math.min(n - got, p.length - head);
      p.copy(out, got, head, head + k);
      got += k;
      head += k;
      if (head === p.length) next();
    }
    return out;
  };
  let header: Buffer | undefined;
  for await (const chunk of source) {
    const c =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (c.length === 0) continue;
    parts.push(c);
    avail += c.length;
    for (;;) {
      if (header === undefined) {
        if (avail < HEADER) break;
        header = takeBytes(HEADER);
      }
      const len = header.readUInt32BE(4);
      if (avail < len) break;
      const id = header[0]!;
      header = undefined;
      const data = len === 0 ? Buffer.alloc(0) : takeBytes(len);
      const stream = NAMES[id];
      if (stream === undefined) {
        if (id === 3)
          throw new InternalError('STREAM_ERROR', `error from daemon in stream: ${data.toString()}`);
        throw new InvalidArgumentError('BAD_FRAME', `unrecognized stream id ${id} in multiplexed stream`);
      }
      yield { stream, data };
    }
  }
  if (header !== undefined || avail > 0) {
    const left = avail + (header === undefined ? 0 : HEADER);
    throw new InvalidArgumentError(
      'TRUNCATED_FRAME',
      `multiplexed stream ended inside a frame (${left} bytes left)`,
    );
  }
}

/**
 * Formats a record's time as `docker logs -t` prints it: RFC3339 in UTC with exactly 9 fractional
 * digits and `Z`, e.g. `2026-11-22T07:23:30.449451672Z`. Callers put a space between it and the
 * line. Accepts the file's timestamp string, a Date, or unix seconds.
 */
export function formatTimestamp(time: string | Date | number): string {
  if (typeof time === 'string') {
    // Fast path: conmon writes 9 digits and +00:00.
    if (time.length === 35 && time.charCodeAt(19) === 0x2e && time.endsWith('+00:00')) {
      return `${time.slice(0, 29)}Z`;
    }
    const at = parseTimestamp(time);
    if (at === undefined)
      throw new InvalidArgumentError('BAD_TIMESTAMP', `not an RFC3339 timestamp: ${time}`);
    return fromInstant(at.sec, at.nsec);
  }
  if (time instanceof Date) {
    const ms = time.getTime();
    if (!Number.isFinite(ms)) throw new InvalidArgumentError('BAD_TIMESTAMP', 'invalid date');
    const sec = Math.floor(ms / 1000);
    return fromInstant(sec, (ms - sec * 1000) * 1e6);
  }
  if (!Number.isFinite(time)) throw new InvalidArgumentError('BAD_TIMESTAMP', `invalid time ${time}`);
  let sec = Math.floor(time);
  let nsec = Math.round((time - sec) * 1e9);
  if (nsec >= 1e9) {
    sec++;
    nsec -= 1e9;
  }
  return fromInstant(sec, nsec);
}

function fromInstant(sec: number, nsec: number): string {
  const iso = new Date(sec * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 19)}.${String(nsec).padStart(9, '0')}Z`;
}
