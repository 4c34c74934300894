// The fluentd driver: Fluentd's Forward protocol (msgpack) over tcp or a unix socket. A batch of
// lines goes as one Forward-mode message `[tag, [[time, record], ...], option]`; with
// fluentd-request-ack the option carries a chunk id and the batch counts as delivered only when
// the server answers `{ack: id}`. Records carry Docker's keys: container_id, container_name,
// source, log, and the attributes the labels/env options pick.
import { randomBytes } from 'node:crypto';
import { decodeMulti, encode, ExtData } from '@msgpack/msgpack';
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

/** Forward protocol EventTime (ext type 0: seconds and nanoseconds, big-endian). */
function eventTime(sec: number, nsec: number): ExtData {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, sec >>> 0);
  v.setUint32(4, nsec >>> 0);
  return new ExtData(0, b);
}

class FluentdSink implements LogSink {
  readonly #conn: StreamConn;
  readonly #tag: string;
  readonly #base: Record<string, string>;
  readonly #subSecond: boolean;
  readonly #ack: boolean;
  #acks: Buffer = Buffer.alloc(0);
  #waiting: { chunk: string; resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(info: ContainerLogInfo, opts: Readonly<Record<string, string>>) {
    this.#conn = new StreamConn(address(opts['fluentd-address']));
    this.#tag = renderTag(info, opts.tag);
    this.#base = {
      ...extraAttributes(opts, info.labels, info.env),
      container_id: info.id,
      container_name: `/${info.name}`,
    };
    this.#subSecond = bool(opts, 'fluentd-sub-second-precision');
    this.#ack = bool(opts, 'fluentd-request-ack');
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

  async write(messages: readonly LogMessage[]): Promise<void> {
    const entries = messages.map((m) => [
      this.#subSecond ? eventTime(m.time.sec, m.time.nsec) : m.time.sec,
      { ...this.#base, source: m.stream, log: m.line.toString('utf8') },
    ]);
    const chunk = this.#ack ? randomBytes(16).toString('base64') : undefined;
    const payload = encode([
      this.#tag,
      entries,
      chunk ? { chunk, size: entries.length } : { size: entries.length },
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
    await this.#conn.write(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
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
      for (const k of ['fluentd-buffer-limit', 'fluentd-max-retries']) {
        const v = opts[k];
        if (v !== undefined && !/^\d+$/.test(v))
          throw bad(`invalid log opt '${k}' "${v}": use a whole number`);
      }
    },
    open: (info, opts) => new FluentdSink(info, opts),
  },
};
