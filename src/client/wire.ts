// A minimal HTTP/1.1 client, one socket per request unless the target keeps idle connections
// (ssh, where a connection costs a process and a login). Written instead
// of using node:http because loading Node's http client costs ~13 ms of every `berth` command's
// start-up (measured: a raw net request 45 ms vs http.get 58 ms, node itself 34 ms). It speaks
// just what the Engine API needs: fixed-length and chunked bodies, streaming responses, and the
// `Upgrade: tcp` hijack.
import net from 'node:net';
import { type Duplex, Readable } from 'node:stream';

/**
 * Where a request goes: a unix socket, plain TCP, or a stream the caller opens (TLS, ssh) that
 * emits `ready` once bytes may be written (`connect`, `secureConnect`, or at once).
 */
export type WireTarget =
  | { socketPath: string }
  | { host: string; port: number }
  | { open: () => { stream: Duplex; ready: string }; idle?: IdleConnections };

/**
 * Connections kept open between the sequential requests of one command (HTTP/1.1 keep-alive).
 * A request takes one if there is one; it gives it back only when its response was framed
 * (Content-Length or chunked) and fully read, its request fully sent, and it was no hijack.
 */
export interface IdleConnections {
  take(): Duplex | undefined;
  give(stream: Duplex): void;
}

/** A kept connection the far side had closed before our request: retried on a fresh one. */
class StaleConnection extends Error {}

export interface WireRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** A fixed body, or a stream sent with chunked encoding. */
  readonly body?: Buffer | Readable;
  readonly signal?: AbortSignal;
}

/** The response: a byte stream of the body with the status and (lower-cased) headers. */
export class WireResponse extends Readable {
  statusCode = 0;
  headers: Record<string, string> = {};
  /** Closes the connection when the caller abandons the response (set by wireRequest). */
  onDestroy?: () => void;
  override _read(): void {
    this.emit('wantdata');
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.onDestroy?.();
    cb(err);
  }
}

export interface WireResult {
  readonly response: WireResponse;
  /** For 101 responses: the socket, positioned after the headers. */
  readonly socket?: Duplex;
}

export async function wireRequest(target: WireTarget, req: WireRequest): Promise<WireResult> {
  const idle = 'open' in target ? target.idle : undefined;
  // A streamed upload cannot be replayed, so it never risks a kept connection that may be stale.
  const kept = idle && !(req.body instanceof Readable) ? idle.take() : undefined;
  if (!kept) return attempt(target, req, undefined);
  try {
    return await attempt(target, req, kept);
  } catch (err) {
    if (!(err instanceof StaleConnection)) throw err;
    return attempt(target, req, undefined);
  }
}

function attempt(target: WireTarget, req: WireRequest, kept: Duplex | undefined): Promise<WireResult> {
  return new Promise((resolve, reject) => {
    let socket: Duplex;
    let ready = 'connect';
    const idle = 'open' in target ? target.idle : undefined;
    const upgrade = req.headers.Upgrade !== undefined || req.headers.upgrade !== undefined;
    if (kept) socket = kept;
    else if ('open' in target) ({ stream: socket, ready } = target.open());
    else
      socket =
        'socketPath' in target ? net.connect(target.socketPath) : net.connect(target.port, target.host);
    let settled = false;
    // Rejected before any reply: there is no response for 'end'/'close' to fail (a refused
    // connection would otherwise crash the CLI with an unhandled error on it).
    let rejected = false;
    let received = false;
    const fail = (err: Error) => {
      if (!settled) {
        settled = true;
        rejected = true;
        const stale = kept && !received && !(req.body instanceof Readable);
        reject(stale ? new StaleConnection(err.message) : err);
      } else response.destroy(err);
      socket.destroy();
    };
    const onAbort = () => fail(Object.assign(new Error('request aborted'), { name: 'AbortError' }));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const onError = (err: NodeJS.ErrnoException) => {
      // The daemon may refuse an upload and answer before reading it all: keep reading its reply.
      if (settled && (err.code === 'EPIPE' || err.code === 'ECONNRESET')) return;
      if (!settled && (err.code === 'EPIPE' || err.code === 'ECONNRESET') && sentHead) return;
      fail(err);
    };
    socket.on('error', onError);
    const response = new WireResponse();
    let sentHead = false;
    // The request is fully written: only then may the connection carry another one.
    let requestSent = false;
    // Given back to the idle set: this request no longer owns the connection.
    let pooled = false;
    response.onDestroy = () => {
      if (!upgraded && !pooled) socket.destroy();
    };
    let upgraded = false;

    const sendRequest = () => {
      const hasConnection = Object.keys(req.headers).some((k) => k.toLowerCase() === 'connection');
      const connection = idle ? (hasConnection ? [] : ['Connection: keep-alive']) : ['Connection: close'];
      const lines = [`${req.method} ${req.path} HTTP/1.1`, 'Host: berth', ...connection];
      for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v}`);
      const stream = req.body instanceof Readable ? req.body : undefined;
      const fixed = req.body instanceof Buffer ? req.body : undefined;
      if (fixed) lines.push(`Content-Length: ${fixed.length}`);
      else if (stream) lines.push('Transfer-Encoding: chunked');
      else if (req.method !== 'GET' && req.method !== 'HEAD') lines.push('Content-Length: 0');
      // Head and a fixed body in one write: one packet for small requests.
      const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
      socket.write(fixed ? Buffer.concat([head, fixed]) : head);
      sentHead = true;
      if (!stream) requestSent = true;
      if (stream) {
        stream.on('data', (c: Buffer) => {
          if (c.length === 0) return;
          socket.write(`${c.length.toString(16)}\r\n`);
          socket.write(c);
          if (!socket.write('\r\n')) {
            stream.pause();
            socket.once('drain', () => stream.resume());
          }
        });
        stream.on('end', () => {
          socket.write('0\r\n\r\n');
          requestSent = true;
        });
        stream.on('error', (err) => fail(err));
      }
    };
    if (!kept) socket.on(ready, sendRequest);

    // Response parsing: head, then body by Content-Length, chunked, or until close.
    let buf: Buffer = Buffer.alloc(0);
    let state: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'close' | 'done' = 'head';
    let remaining = 0;
    const push = (data: Buffer) => {
      if (data.length > 0 && !response.push(data)) socket.pause();
    };
    response.on('wantdata', () => {
      if (!pooled) socket.resume();
    });
    const finish = () => {
      if (state === 'done') return;
      state = 'done';
      const reusable =
        idle &&
        !upgrade &&
        requestSent &&
        buf.length === 0 &&
        !/close/i.test(response.headers.connection ?? '') &&
        !socket.destroyed;
      if (reusable) {
        pooled = true;
        detach();
        socket.resume();
        idle.give(socket);
      } else socket.end();
      response.push(null);
    };
    const parse = () => {
      for (;;) {
        if (state === 'head') {
          const end = buf.indexOf('\r\n\r\n');
          if (end === -1) return;
          const head = buf.subarray(0, end).toString('latin1').split('\r\n');
          buf = buf.subarray(end + 4);
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
          if (!m) return fail(new Error(`malformed response from the daemon: ${head[0]}`));
          response.statusCode = Number(m[1]);
          for (const h of head.slice(1)) {
            const i = h.indexOf(':');
            if (i > 0) response.headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
          }
          settled = true;
          if (response.statusCode === 101) {
            upgraded = true;
            socket.removeAllListeners('data');
            if (buf.length > 0) socket.unshift(buf);
            state = 'done';
            resolve({ response, socket });
            return;
          }
          resolve({ response });
          const te = response.headers['transfer-encoding'];
          const cl = response.headers['content-length'];
          // A HEAD reply has no body whatever its headers say (Content-Length is the GET's).
          if (req.method === 'HEAD' || response.statusCode === 204 || response.statusCode === 304)
            return finish();
          if (te?.toLowerCase().includes('chunked')) state = 'chunk-size';
          else if (cl !== undefined) {
            remaining = Number(cl);
            state = 'length';
            if (remaining === 0) return finish();
          } else state = 'close';
          continue;
        }
        if (state === 'length') {
          if (buf.length === 0) return;
          const take = buf.subarray(0, remaining);
          buf = buf.subarray(take.length);
          remaining -= take.length;
          push(take);
          if (remaining === 0) return finish();
          return;
        }
        if (state === 'close') {
          push(buf);
          buf = Buffer.alloc(0);
          return;
        }
        if (state === 'chunk-size') {
          const nl = buf.indexOf('\r\n');
          if (nl === -1) return;
          remaining = Number.parseInt(buf.subarray(0, nl).toString('latin1'), 16);
          buf = buf.subarray(nl + 2);
          if (Number.isNaN(remaining)) return fail(new Error('malformed chunked response from the daemon'));
          if (remaining === 0) return finish();
          state = 'chunk-data';
          continue;
        }
        if (state === 'chunk-data') {
          if (buf.length === 0) return;
          const take = buf.subarray(0, remaining);
          buf = buf.subarray(take.length);
          remaining -= take.length;
          push(take);
          if (remaining > 0) return;
          state = 'chunk-end';
          continue;
        }
        if (state === 'chunk-end') {
          if (buf.length < 2) return;
          buf = buf.subarray(2);
          state = 'chunk-size';
          continue;
        }
        return;
      }
    };
    const onData = (c: Buffer) => {
      received = true;
      buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      parse();
    };
    const onEnd = () => {
      if (rejected) return;
      if (!settled) return fail(new Error('the daemon closed the connection without a reply'));
      if (state === 'close') finish();
      else if (state !== 'done') response.destroy(new Error('the daemon closed the connection mid-reply'));
    };
    const onClose = () => {
      req.signal?.removeEventListener('abort', onAbort);
      if (rejected) return;
      // A write error (EPIPE while still uploading) destroys the socket without an 'end': the
      // reply must not be left open, or the process would exit 0 with nothing read.
      if (!settled) fail(new Error('the daemon closed the connection without a reply'));
      else if (state === 'close') finish();
      else if (state !== 'done' && !upgraded)
        response.destroy(new Error('the daemon closed the connection mid-reply'));
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    const detach = () => {
      socket.off('error', onError);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      socket.off(ready, sendRequest);
      req.signal?.removeEventListener('abort', onAbort);
    };
    // A kept connection is open already: the request goes out at once.
    if (kept) sendRequest();
  });
}

/** Opens a raw connection to the target: resolves once bytes may be written, rejects on an early error. */
export function openRaw(target: WireTarget): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let socket: Duplex;
    let ready = 'connect';
    if ('open' in target) ({ stream: socket, ready } = target.open());
    else
      socket =
        'socketPath' in target
          ? net.connect({ path: target.socketPath, allowHalfOpen: true })
          : net.connect({ port: target.port, host: target.host, allowHalfOpen: true });
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.once(ready, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
