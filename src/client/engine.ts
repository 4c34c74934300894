// A typed Docker Engine API client over a unix socket or loopback TCP. Used by the berth CLI and
// by tests. Errors from the daemon become EngineError with the status and Docker's message.
import http from 'node:http';
import type { Readable } from 'node:stream';

export class EngineError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.name = 'EngineError';
  }
}

export class ConnectError extends Error {
  readonly host: string;
  constructor(host: string, cause: unknown) {
    super(`Cannot connect to the Berth daemon at ${host}. Is berthd running?`, { cause });
    this.host = host;
    this.name = 'ConnectError';
  }
}

export interface RequestOptions {
  readonly query?: Record<string, string | number | boolean | string[] | undefined>;
  readonly body?: unknown;
  /** Raw request body (tar uploads). */
  readonly stream?: Readable;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

export type Target = { socketPath: string } | { host: string; port: number };

export function parseDaemonHost(spec: string): Target {
  if (spec.startsWith('unix://')) return { socketPath: spec.slice(7) };
  if (spec.startsWith('tcp://') || spec.startsWith('http://')) {
    const u = new URL(spec.replace(/^tcp:/, 'http:'));
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 2375) };
  }
  if (spec.startsWith('/')) return { socketPath: spec };
  throw new Error(`invalid daemon host "${spec}": use unix:///path/to.sock or tcp://127.0.0.1:PORT`);
}

function buildQuery(q: RequestOptions['query']): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export class EngineClient {
  readonly hostSpec: string;
  readonly #target: Target;
  readonly #agent: http.Agent;

  constructor(hostSpec: string) {
    this.hostSpec = hostSpec;
    this.#target = parseDaemonHost(hostSpec);
    this.#agent = new http.Agent({ keepAlive: false });
  }

  /** Sends a request and returns the raw response (status already checked). */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    } else if (opts.stream) {
      headers['Content-Type'] ??= 'application/x-tar';
      headers['Transfer-Encoding'] = 'chunked';
    }
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const answered = false;
      const req = http.request(
        {
          ...this.#target,
          agent: this.#agent,
          method,
          path: path + buildQuery(opts.query),
          headers: { Host: 'berth', ...headers },
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        resolve,
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (['ENOENT', 'ECONNREFUSED', 'EACCES'].includes(err.code ?? ''))
          reject(new ConnectError(this.hostSpec, err));
        else reject(err);
      });
      if (payload) req.end(payload);
      else if (opts.stream) {
        opts.stream.on('error', (err) => req.destroy(err));
        opts.stream.pipe(req);
      } else req.end();
    });
    if (res.statusCode !== undefined && res.statusCode >= 400) {
      const text = await readAll(res);
      let message = text.toString('utf8').trim();
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        /* plain text */
      }
      throw new EngineError(res.statusCode, message);
    }
    return res;
  }

  /** POST with `Upgrade: tcp` (attach, exec start): resolves with the raw connection. */
  hijack(path: string, opts: RequestOptions = {}): Promise<import('node:stream').Duplex> {
    return new Promise((resolve, reject) => {
      const payload = opts.body !== undefined ? Buffer.from(JSON.stringify(opts.body)) : undefined;
      const req = http.request({
        ...this.#target,
        method: 'POST',
        path: path + buildQuery(opts.query),
        headers: {
          Host: 'berth',
          Connection: 'Upgrade',
          Upgrade: 'tcp',
          ...(payload
            ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) }
            : {}),
        },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', async (res) => {
        const text = (await readAll(res)).toString('utf8');
        let message = text.trim();
        try {
          message = (JSON.parse(message) as { message?: string }).message ?? message;
        } catch {
          /* plain text */
        }
        reject(new EngineError(res.statusCode ?? 500, message));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(
          ['ENOENT', 'ECONNREFUSED', 'EACCES'].includes(err.code ?? '')
            ? new ConnectError(this.hostSpec, err)
            : err,
        );
      });
      req.end(payload);
    });
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, opts);
    const text = (await readAll(res)).toString('utf8');
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A JSON-lines stream (pull/load/import/build); yields each parsed message. */
  async *jsonLines<T>(method: string, path: string, opts: RequestOptions = {}): AsyncGenerator<T> {
    const res = await this.raw(method, path, opts);
    let buf = '';
    for await (const chunk of res) {
      buf += (chunk as Buffer).toString('utf8');
      let nl = buf.indexOf('\n');
      while (nl !== -1) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) yield JSON.parse(line) as T;
        nl = buf.indexOf('\n');
      }
    }
    if (buf.trim()) yield JSON.parse(buf) as T;
  }
}

export async function readAll(s: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
