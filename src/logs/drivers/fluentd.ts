// The fluentd driver: Fluentd's Forward protocol (msgpack) over tcp or a unix socket. A batch of
// lines goes as one Forward-mode message `[tag, [[time, record], ...], option]`; with
// fluentd-request-ack the option carries a chunk id and the batch counts as delivered only when
// the server answers `{ack: id}`. The chunk id is derived from the container and the batch's
// place in the log, so a resent batch carries the id it had and the server can drop it. Records carry Docker's keys: container_id, container_name,
// source, log, and the attributes the labels/env options pick.
import { createHash } from 'node:crypto';
import { decodeMulti, encode } from '@msgpack/msgpack';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { extraAttributes, renderTag } from './meta.ts';
import { type Address, parseAddress, StreamConn } from './transport.ts';
import type { ContainerLogInfo, DriverSpec, LogMessage, LogSink } from './types.ts';

const DEFAULT_ADDRESS = 'tcp://localhost:24224';
const ACK_TIMEOUT_MS = 30_000;

function bad(message: string): InvalidArgumentError {
  return new InvalidArgumentError('INVALID_LOG_OPT', message);
}

function address(v: string | undefined): Address {
  let s = v || DEFAULT_ADDRESS;
  // Docker also takes a bare host:port (and a bare host, port 24224).
  if (!s.includes('://')) s = `tcp://${s}`;
  const a = parseAddress('fluentd-address', s, ['tcp', 'unix'], 24224);
  return a.proto === 'unix' ? { kind: 'unix', path: a.path } : { kind: 'tcp', host: a.host, port: a.port };
}

const bool = (opts: Readonly<Record<string, string>>, k: string): boolean => {
  const v = opts[k];
  if (v === undefined || v === '') return false;
  if (v !== 'true' && v !== 'false') throw bad(`invalid log opt '${k}' "${v}": use true or false`);
  return v === 'true';
};

/** A msgpack str header for `len` bytes. */
function strHead(len: number): Buffer {
  if (len < 32) return Buffer.from([0xa0 | len]);
  if (len < 256) return Buffer.from([0xd9, len]);
  const b = Buffer.alloc(len < 65536 ? 3 : 5);
  if (len < 65536) {
    b[0] = 0xda;
    b.writeUInt16BE(len, 1);
  } else {
    b[0] = 0xdb;
    b.writeUInt32BE(len, 1);
  }
  return b;
}

const mpStr = (s: string) => {
  const b = Buffer.from(s);
  return Buffer.concat([strHead(b.length), b]);
};

/** The bytes of a msgpack str header for `len` bytes. */
const strHeadLen = (len: number) => (len < 32 ? 1 : len < 256 ? 2 : len < 65536 ? 3 : 5);

function writeStrHead(out: Buffer, at: number, len: number): number {
  if (len < 32) out[at++] = 0xa0 | len;
  else if (len < 256) {
    out[at++] = 0xd9;
    out[at++] = len;
  } else if (len < 65536) {
    out[at++] = 0xda;
    out.writeUInt16BE(len, at);
    at += 2;
  } else {
    out[at++] = 0xdb;
    out.writeUInt32BE(len, at);
    at += 4;
  }
  return at;
}

const KEY_SOURCE = mpStr('source');
const KEY_LOG = mpStr('log');
const SOURCE = { stdout: mpStr('stdout'), stderr: mpStr('stderr') };

/**
 * The Forward-mode entries `[[time, record], ...]` written by hand into one buffer sized first:
 * the record's fixed keys are encoded once per container, so a line costs its copies and a few
 * header bytes (msgpack's generic encoder spent most of the delivery time building and walking
 * one object per line; a Buffer per field and a concat of them was the next cost).
 */
export function encodeEntries(
  messages: readonly LogMessage[],
  fixed: Buffer,
  fixedCount: number,
  subSecond: boolean,
): Buffer {
  const n = fixedCount + 2;
  const mapHead = n < 16 ? Buffer.from([0x80 | n]) : Buffer.from([0xde, n >> 8, n & 0xff]);
  const perEntry =
    1 +
    (subSecond ? 10 : 5) +
    mapHead.length +
    fixed.length +
    KEY_SOURCE.length +
    SOURCE.stdout.length +
    KEY_LOG.length;
  let size = 5 + perEntry * messages.length;
  for (const m of messages) size += strHeadLen(m.line.length) + m.line.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = 0xdd;
  out.writeUInt32BE(messages.length, 1);
  let at = 5;
  for (const m of messages) {
    out[at++] = 0x92;
    if (subSecond) {
      // EventTime: ext 0 of 8 bytes, seconds and nanoseconds.
      out[at++] = 0xd7;
      out[at++] = 0x00;
      out.writeUInt32BE(m.time.sec >>> 0, at);
      out.writeUInt32BE(m.time.nsec >>> 0, at + 4);
      at += 8;
    } else {
      out[at++] = 0xce;
      out.writeUInt32BE(m.time.sec >>> 0, at);
      at += 4;
    }
    at += mapHead.copy(out, at);
    at += fixed.copy(out, at);
    at += KEY_SOURCE.copy(out, at);
    at += SOURCE[m.stream].copy(out, at);
    at += KEY_LOG.copy(out, at);
    // The line's bytes as they came (valid UTF-8 is the common case; msgpack str is raw bytes).
    at = writeStrHead(out, at, m.line.length);
    at += m.line.copy(out, at);
  }
  return out;
}

class FluentdSink implements LogSink {
  readonly #conn: StreamConn;
  readonly #tag: string;
  readonly #fixed: Buffer;
  readonly #fixedCount: number;
  readonly #subSecond: boolean;
  readonly #ack: boolean;
  readonly #id: string;
  readonly namesBatches: boolean;
  #acks: Buffer = Buffer.alloc(0);
  #waiting: { chunk: string; resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(info: ContainerLogInfo, opts: Readonly<Record<string, string>>) {
    this.#conn = new StreamConn(address(opts['fluentd-address']));
    this.#tag = renderTag(info, opts.tag);
    const base: Record<string, string> = {
      ...extraAttributes(opts, info.labels, info.env),
      container_id: info.id,
      container_name: `/${info.name}`,
    };
    delete base.source;
    delete base.log;
    this.#fixed = Buffer.concat(Object.entries(base).flatMap(([k, v]) => [mpStr(k), mpStr(v)]));
    this.#fixedCount = Object.keys(base).length;
    this.#subSecond = bool(opts, 'fluentd-sub-second-precision');
    this.#ack = bool(opts, 'fluentd-request-ack');
    this.namesBatches = this.#ack;
    this.#id = info.id;
    this.#conn.onData = (b) => this.#onAck(b);
    this.#conn.onBroken = (err) => {
      this.#acks = Buffer.alloc(0);
      this.#waiting?.reject(err);
      this.#waiting = undefined;
    };
  }

  #onAck(b: Buffer): void {
    this.#acks = Buffer.concat([this.#acks, b]);
    try {
      for (const msg of decodeMulti(this.#acks)) {
        const ack = (msg as { ack?: unknown } | null)?.ack;
        if (this.#waiting && ack === this.#waiting.chunk) {
          const w = this.#waiting;
          this.#waiting = undefined;
          w.resolve();
        }
      }
      this.#acks = Buffer.alloc(0);
    } catch {
      // An incomplete answer: wait for its rest (bounded: acks are tiny).
      if (this.#acks.length > 1 << 16) this.#acks = Buffer.alloc(0);
    }
  }

  connect(): Promise<void> {
    return this.#conn.connect().then(() => {});
  }

  async write(messages: readonly LogMessage[], batch: string): Promise<void> {
    // 16 bytes in base64, the shape of fluent-logger's random chunk ids.
    const chunk = this.#ack
      ? createHash('sha256').update(`${this.#id}\0${batch}`).digest().subarray(0, 16).toString('base64')
      : undefined;
    const option = encode(chunk ? { chunk, size: messages.length } : { size: messages.length });
    const payload = Buffer.concat([
      Buffer.from([0x93]),
      mpStr(this.#tag),
      encodeEntries(messages, this.#fixed, this.#fixedCount, this.#subSecond),
      option,
    ]);
    const acked = chunk
      ? new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.#waiting = undefined;
            reject(new Error(`fluentd did not acknowledge chunk ${chunk} within ${ACK_TIMEOUT_MS / 1000} s`));
          }, ACK_TIMEOUT_MS);
          this.#waiting = {
            chunk,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
            reject: (e) => {
              clearTimeout(timer);
              reject(e);
            },
          };
        })
      : undefined;
    acked?.catch(() => {});
    await this.#conn.write(payload);
    await acked;
  }

  reset(): void {
    this.#conn.reset();
  }

  close(): void {
    this.reset();
  }
}

export const fluentdDriver: DriverSpec = {
  name: 'fluentd',
  opts: [
    'fluentd-address',
    'fluentd-async',
    'fluentd-async-connect',
    'fluentd-buffer-limit',
    'fluentd-retry-wait',
    'fluentd-max-retries',
    'fluentd-sub-second-precision',
    'fluentd-request-ack',
  ],
  remote: {
    validate(opts) {
      address(opts['fluentd-address']);
      for (const k of [
        'fluentd-async',
        'fluentd-async-connect',
        'fluentd-sub-second-precision',
        'fluentd-request-ack',
      ])
        bool(opts, k);
      const v = opts['fluentd-max-retries'];
      if (v !== undefined && !/^\d+$/.test(v))
        throw bad(`invalid log opt 'fluentd-max-retries' "${v}": use a whole number`);
    },
    open: (info, opts) => new FluentdSink(info, opts),
  },
};
