// The websocket channel protocols of k8s.io/apimachinery's wsstream: every message starts with a
// channel number (a byte for `channel.k8s.io`, an ASCII digit followed by base64 for
// `base64.channel.k8s.io`), so one websocket carries stdin/stdout/stderr/error/resize, or a
// data+error pair per forwarded port. `v5.channel.k8s.io` adds the CLOSE signal: the message
// [255, n] half-closes channel n (how a v5 client ends stdin without closing the socket).
import { PassThrough, Readable, Writable } from 'node:stream';
import type { WebSocket } from 'ws';

export type ChannelKind = 'ignore' | 'read' | 'write' | 'readwrite';

export interface ChannelProtocol {
  /** base64.channel.k8s.io and its v4 form: text messages, digit channel, base64 payload. */
  readonly base64: boolean;
  /** v5: the [255, channel] half-close message. */
  readonly closeSignal: boolean;
}

const CLOSE_SIGNAL = 255;

/** Picks the first protocol the client offers that we serve (wsstream's handshake order). */
export function negotiateProtocol(offered: readonly string[], served: readonly string[]): string | undefined {
  if (offered.length === 0) return served.includes('') ? '' : undefined;
  return offered.find((p) => p !== '' && served.includes(p));
}

/** Sec-WebSocket-Protocol values, in the client's order. */
export function offeredProtocols(header: string | string[] | undefined): string[] {
  const all = Array.isArray(header) ? header.join(',') : (header ?? '');
  return all
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

export class ChannelConn {
  readonly #ws: WebSocket;
  readonly #proto: ChannelProtocol;
  readonly #inbound: (PassThrough | undefined)[];
  readonly #kinds: readonly ChannelKind[];
  readonly #pausedBy = new Set<number>();
  readonly #idleMs: number;
  #idle: NodeJS.Timeout | undefined;
  readonly closed: Promise<void>;

  constructor(ws: WebSocket, kinds: readonly ChannelKind[], proto: ChannelProtocol, idleTimeoutMs: number) {
    this.#ws = ws;
    this.#proto = proto;
    this.#kinds = kinds;
    this.#idleMs = idleTimeoutMs;
    this.#inbound = kinds.map((k) => (k === 'read' || k === 'readwrite' ? new PassThrough() : undefined));
    this.closed = new Promise((resolve) => {
      ws.once('close', () => {
        clearTimeout(this.#idle);
        // The client went away: every input stream ends (stdin EOF, the port's write side).
        for (const p of this.#inbound) p?.end();
        resolve();
      });
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: Buffer) => this.#receive(data));
    this.#touch();
  }

  #touch(): void {
    clearTimeout(this.#idle);
    if (this.#idleMs > 0) {
      this.#idle = setTimeout(() => this.#ws.terminate(), this.#idleMs);
      this.#idle.unref();
    }
  }

  #receive(data: Buffer): void {
    this.#touch();
    if (data.length === 0) return;
    if (this.#proto.closeSignal && data[0] === CLOSE_SIGNAL) {
      // A malformed or out-of-range close is a protocol error, as wsstream treats it.
      const ch = data.length === 2 ? (data[1] as number) : -1;
      if (ch < 0 || ch >= this.#kinds.length) return void this.#ws.close(1002, 'bad close signal');
      this.#inbound[ch]?.end();
      return;
    }
    const first = data[0] as number;
    const ch = this.#proto.base64 ? first - 0x30 : first;
    const sink = this.#inbound[ch];
    // Frames for a channel the session did not open are dropped (wsstream does the same).
    if (!sink || sink.writableEnded) return;
    let payload = data.subarray(1);
    if (this.#proto.base64) payload = Buffer.from(payload.toString('latin1'), 'base64');
    if (payload.length === 0) return;
    if (!sink.write(payload)) {
      // Backpressure: stop reading the socket until this channel's reader catches up.
      this.#pausedBy.add(ch);
      this.#ws.pause();
      sink.once('drain', () => {
        this.#pausedBy.delete(ch);
        if (this.#pausedBy.size === 0) this.#ws.resume();
      });
    }
  }

  /** What the client sends on channel n (an ended stream for a channel that is not readable). */
  readable(n: number): Readable {
    return this.#inbound[n] ?? Readable.from([]);
  }

  /** Sends one message on channel n; resolves once it is handed to the socket. Never rejects. */
  send(n: number, data: Buffer): Promise<void> {
    const kind = this.#kinds[n];
    if (kind !== 'write' && kind !== 'readwrite') return Promise.resolve();
    if (this.#ws.readyState !== this.#ws.OPEN) return Promise.resolve();
    this.#touch();
    const frame = this.#proto.base64
      ? String.fromCharCode(0x30 + n) + data.toString('base64')
      : Buffer.concat([Buffer.from([n]), data]);
    return new Promise((resolve) => this.#ws.send(frame, { binary: !this.#proto.base64 }, () => resolve()));
  }

  /** A Writable onto channel n; data written after the socket closed is dropped, never an error. */
  writable(n: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.send(n, chunk).then(() => cb());
      },
    });
  }

  close(code = 1000, reason = ''): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.close(code, reason);
    else if (this.#ws.readyState !== this.#ws.CLOSED) this.#ws.terminate();
  }
}
