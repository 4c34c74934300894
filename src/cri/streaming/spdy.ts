// The server side of SPDY/3.1 as Kubernetes streams use it (moby/spdystream, which the kubelet,
// client-go and crictl share): after an HTTP upgrade, the client opens streams with SYN_STREAM
// (headers such as `streamtype: stdout`, `port`, `requestid`), the server accepts each with a
// SYN_REPLY, and DATA frames flow until FIN (half close) or RST_STREAM. Header blocks are zlib
// with the SPDY/3 dictionary, one compression context per direction for the whole connection.
// Written here, not taken from npm: spdy-transport (the `spdy` package's engine) refuses any
// SYN_STREAM without HTTP's :method and :path, which Kubernetes streams never carry. Flow
// control: spdystream sends no WINDOW_UPDATE and ignores them, so none is enforced here either;
// WINDOW_UPDATEs are still sent as data is consumed, for peers that do count windows.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

// The SPDY/3 header dictionary (draft-mbelshe-httpbis-spdy-00 §2.6.10.1), from spdy-transport,
// imported statically so the bundle carries it (the package is not installed beside dist/).
// @ts-expect-error: spdy-transport ships no type declarations.
import spdyDictionaries from 'spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js';

const SPDY3_DICTIONARY: Buffer = (spdyDictionaries as Record<string, Buffer>)['3'] as Buffer;

const VERSION = 3;
const T = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
};
const FLAG_FIN = 0x01;
const RST_PROTOCOL_ERROR = 1;
const RST_CANCEL = 5;
/** Largest DATA frame sent (the peer accepts up to 16 MiB; smaller frames interleave streams). */
const MAX_DATA = 32 * 1024;
/** A header block larger than this is refused (the kubelet's streams carry four short headers). */
const MAX_HEADER_BLOCK = 256 * 1024;

export type SpdyHeaders = Readonly<Record<string, readonly string[]>>;

/** One zlib context fed block by block with a sync flush (SPDY/3 header compression). */
class HeaderCodec {
  readonly #z: zlib.Inflate | zlib.Deflate;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(kind: 'inflate' | 'deflate') {
    this.#z =
      kind === 'inflate'
        ? zlib.createInflate({ dictionary: SPDY3_DICTIONARY })
        : zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
    this.#z.on('error', () => {});
  }

  run(block: Buffer): Promise<Buffer> {
    const next = this.#chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const out: Buffer[] = [];
          let size = 0;
          const onData = (c: Buffer) => {
            size += c.length;
            // A small block must not inflate into an unbounded one (a zlib bomb).
            if (size > MAX_HEADER_BLOCK) onError(new Error('SPDY header block too large'));
            else out.push(c);
          };
          const onError = (e: Error) => {
            this.#z.off('data', onData);
            reject(e);
          };
          this.#z.on('data', onData);
          this.#z.once('error', onError);
          this.#z.write(block);
          this.#z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            // Output of this flush is emitted before its callback runs.
            this.#z.off('data', onData);
            this.#z.off('error', onError);
            resolve(Buffer.concat(out));
          });
        }),
    );
    this.#chain = next.catch(() => {});
    return next;
  }

  close(): void {
    this.#z.destroy();
  }
}

function parseHeaderBlock(b: Buffer): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let off = 0;
  const u32 = () => {
    if (off + 4 > b.length) throw new Error('truncated SPDY header block');
    const v = b.readUInt32BE(off);
    off += 4;
    return v;
  };
  const str = () => {
    const n = u32();
    if (off + n > b.length) throw new Error('truncated SPDY header block');
    const s = b.toString('utf8', off, off + n);
    off += n;
    return s;
  };
  const count = u32();
  for (let i = 0; i < count; i++) {
    const name = str().toLowerCase();
    out[name] = [...(out[name] ?? []), ...str().split('\0')];
  }
  return out;
}

function headerBlock(h: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const entries = Object.entries(h);
  parts.push(u32(entries.length));
  for (const [k, v] of entries) {
    const kb = Buffer.from(k.toLowerCase());
    const vb = Buffer.from(v);
    parts.push(u32(kb.length), kb, u32(vb.length), vb);
  }
  return Buffer.concat(parts);
}

function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24) | body.length, 4);
  return Buffer.concat([h, body]);
}

function dataFrame(id: number, flags: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(id & 0x7fffffff, 0);
  h.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  return Buffer.concat([h, data]);
}

function u32s(...v: number[]): Buffer {
  const b = Buffer.alloc(4 * v.length);
  for (const [i, x] of v.entries()) b.writeUInt32BE(x >>> 0, 4 * i);
  return b;
}

/** A stream the client opened: readable is what it sends, writable what we send back. */
export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: SpdyHeaders;
  readonly #conn: SpdyConnection;
  #reset = false;

  constructor(conn: SpdyConnection, id: number, headers: SpdyHeaders) {
    super({ allowHalfOpen: true });
    this.#conn = conn;
    this.id = id;
    this.headers = headers;
  }

  header(name: string): string {
    return this.headers[name.toLowerCase()]?.[0] ?? '';
  }

  override _read(): void {
    this.#conn.resumeInput();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#reset) cb();
    else this.#conn.sendData(this.id, chunk, false).then(() => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#reset) cb();
    else this.#conn.sendData(this.id, Buffer.alloc(0), true).then(() => cb());
  }

  /** RST_STREAM: both directions end at once (spdystream's Reset). */
  reset(): void {
    if (this.#reset) return;
    this.#reset = true;
    this.#conn.sendReset(this.id, RST_CANCEL);
    this.remoteFin();
    this.destroy();
  }

  /** The peer's half is closed (FIN): later data for it is dropped. */
  remoteFinished = false;

  /** Called by the connection on FIN. */
  remoteFin(): void {
    if (this.remoteFinished) return;
    this.remoteFinished = true;
    this.push(null);
  }

  /** Called by the connection on RST_STREAM or when it goes. */
  remoteReset(): void {
    this.#reset = true;
    this.remoteFin();
    this.destroy();
  }
}

export class SpdyConnection extends EventEmitter<{ stream: [SpdyStream]; close: [] }> {
  readonly #socket: Duplex;
  readonly #inflate = new HeaderCodec('inflate');
  readonly #deflate = new HeaderCodec('deflate');
  readonly #streams = new Map<number, SpdyStream>();
  #buf: Buffer = Buffer.alloc(0);
  /** Frames are handled one after another (a header block inflates asynchronously). */
  #inChain: Promise<void> = Promise.resolve();
  /** Frames go out in order (a SYN_REPLY deflates asynchronously). */
  #outChain: Promise<void> = Promise.resolve();
  #lastStreamId = 0;
  #closed = false;
  readonly #idleMs: number;
  #idle: NodeJS.Timeout | undefined;

  constructor(socket: Duplex, idleTimeoutMs: number) {
    super();
    this.#socket = socket;
    this.#idleMs = idleTimeoutMs;
    socket.on('data', (c: Buffer) => this.#receive(c));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    this.#touch();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #touch(): void {
    clearTimeout(this.#idle);
    if (this.#idleMs > 0) {
      this.#idle = setTimeout(() => this.destroy(), this.#idleMs);
      this.#idle.unref();
    }
  }

  resumeInput(): void {
    if (!this.#closed) this.#socket.resume();
  }

  #receive(chunk: Buffer): void {
    this.#touch();
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    while (this.#buf.length >= 8) {
      const len = this.#buf.readUInt32BE(4) & 0xffffff;
      if (this.#buf.length < 8 + len) break;
      const frame = this.#buf.subarray(0, 8 + len);
      this.#buf = this.#buf.subarray(8 + len);
      this.#inChain = this.#inChain.then(() => this.#handle(frame)).catch(() => this.destroy());
    }
    if (this.#buf.length > MAX_HEADER_BLOCK + 8 && (this.#buf[0] as number) & 0x80) this.destroy();
  }

  async #handle(f: Buffer): Promise<void> {
    if (this.#closed) return;
    const first = f.readUInt32BE(0);
    const flags = f[4] as number;
    const body = f.subarray(8);
    if (!(first & 0x80000000)) return this.#onData(first & 0x7fffffff, flags, body);
    const version = (first >>> 16) & 0x7fff;
    const type = first & 0xffff;
    if (version !== VERSION) return this.destroy();
    switch (type) {
      case T.SYN_STREAM: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        const headers = parseHeaderBlock(await this.#inflate.run(body.subarray(10)));
        // Client streams are odd and increasing; anything else is a protocol error.
        if (id % 2 === 0 || id <= this.#lastStreamId || this.#streams.has(id)) {
          this.sendReset(id, RST_PROTOCOL_ERROR);
          return;
        }
        this.#lastStreamId = id;
        const s = new SpdyStream(this, id, headers);
        this.#streams.set(id, s);
        s.once('close', () => this.#streams.delete(id));
        if (flags & FLAG_FIN) s.remoteFin();
        this.emit('stream', s);
        return;
      }
      case T.RST_STREAM: {
        const s = this.#streams.get(body.readUInt32BE(0) & 0x7fffffff);
        s?.remoteReset();
        return;
      }
      case T.HEADERS: {
        // Headers after the SYN carry nothing Kubernetes uses, but the context must advance.
        await this.#inflate.run(body.subarray(4));
        if (flags & FLAG_FIN) this.#streams.get(body.readUInt32BE(0) & 0x7fffffff)?.remoteFin();
        return;
      }
      case T.PING: {
        // Client pings are odd: echo them (spdystream answers pings of the other parity).
        if (body.readUInt32BE(0) % 2 === 1) this.#send(controlFrame(T.PING, 0, body.subarray(0, 4)));
        return;
      }
      case T.GOAWAY:
        this.destroy();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE, SYN_REPLY (we open no streams): nothing to do.
        return;
    }
  }

  #onData(id: number, flags: number, data: Buffer): void {
    const s = this.#streams.get(id);
    if (!s || s.remoteFinished) return;
    if (data.length > 0) {
      if (!s.push(data)) this.#socket.pause();
      // Credit the peer for what arrived (the stream's and the connection's window, 3.1).
      this.#send(
        Buffer.concat([
          controlFrame(T.WINDOW_UPDATE, 0, u32s(id, data.length)),
          controlFrame(T.WINDOW_UPDATE, 0, u32s(0, data.length)),
        ]),
      );
    }
    if (flags & FLAG_FIN) s.remoteFin();
  }

  #send(frame: Buffer | (() => Promise<Buffer>)): Promise<void> {
    const next = this.#outChain.then(async () => {
      if (this.#closed) return;
      const b = typeof frame === 'function' ? await frame() : frame;
      if (this.#closed) return;
      this.#touch();
      await new Promise<void>((resolve) => {
        if (!this.#socket.write(b)) this.#socket.once('drain', resolve);
        else resolve();
      });
    });
    this.#outChain = next.catch(() => {});
    return this.#outChain;
  }

  /** Accepts a stream (SYN_REPLY with the headers an HTTP-minded peer needs). */
  reply(s: SpdyStream): Promise<void> {
    return this.#send(async () => {
      const block = await this.#deflate.run(headerBlock({ ':status': '200', ':version': 'HTTP/1.1' }));
      return controlFrame(T.SYN_REPLY, 0, Buffer.concat([u32s(s.id), block]));
    });
  }

  async sendData(id: number, data: Buffer, fin: boolean): Promise<void> {
    for (let off = 0; off < data.length; off += MAX_DATA) {
      const part = data.subarray(off, off + MAX_DATA);
      const last = off + MAX_DATA >= data.length;
      await this.#send(dataFrame(id, fin && last ? FLAG_FIN : 0, part));
    }
    if (data.length === 0) await this.#send(dataFrame(id, fin ? FLAG_FIN : 0, data));
  }

  sendReset(id: number, code: number): void {
    void this.#send(controlFrame(T.RST_STREAM, 0, u32s(id, code)));
  }

  /** GOAWAY, then the socket ends once everything queued is written. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#send(controlFrame(T.GOAWAY, 0, u32s(this.#lastStreamId, 0)));
    this.#socket.end();
    this.destroy();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idle);
    for (const s of this.#streams.values()) s.remoteReset();
    this.#streams.clear();
    this.#inflate.close();
    this.#deflate.close();
    // Give a graceful end a moment to flush; a peer that never closes is cut off.
    const t = setTimeout(() => this.#socket.destroy(), 2000);
    t.unref();
    this.#socket.once('close', () => clearTimeout(t));
    this.emit('close');
  }
}
