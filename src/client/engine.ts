// A typed Docker Engine API client over a unix socket or loopback TCP. Used by the berth CLI and
// by tests. Errors from the daemon become EngineError with the status and Docker's message.
import type { Duplex } from 'node:stream';
import type { Readable } from 'node:stream';
import { parseSshHost, type SshEndpoint, SshError, sshTarget } from './ssh.ts';
import { isTlsError, type TlsSettings, tlsTarget } from './transport.ts';
import { openRaw, type WireResponse, type WireTarget, wireRequest } from './wire.ts';

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

/** The TLS handshake failed: the message names the host, the TLS layer's reason and the flags. */
export class TlsConnectError extends ConnectError {
  constructor(host: string, cause: Error) {
    super(host, cause);
    this.message = `error during connect: ${host}: TLS: ${cause.message} (check --tlscacert, --tlscert and --tlskey, or the context's TLS material, against the daemon's certificates)`;
    this.name = 'TlsConnectError';
  }
}

/** ssh could not reach the far side's daemon: ssh's status and stderr, and what to check. */
export class SshConnectError extends ConnectError {
  constructor(host: string, cause: SshError) {
    super(host, cause);
    this.message = `error during connect: ${host}: ${cause.message}${sshHint(cause)}`;
    this.name = 'SshConnectError';
  }
}

function sshHint(err: SshError): string {
  if (err.exitCode === 255)
    return ' (ssh could not log in: check the host, port, user and key, e.g. with `ssh -p PORT user@host true`)';
  if (err.exitCode === 127) return '';
  if (err.exitCode !== null)
    return ' (the remote `system dial-stdio` could not reach its daemon: is berthd (or dockerd) running there, and is the socket path right?)';
  return '';
}

export interface RequestOptions {
  readonly query?: Record<string, string | number | boolean | string[] | undefined>;
  readonly body?: unknown;
  /** Raw request body (tar uploads). */
  readonly stream?: Readable;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

export type Target = { socketPath: string } | { host: string; port: number } | { ssh: SshEndpoint };

export interface ClientOptions {
  /** TLS for tcp:// hosts (docker's --tls/--tlsverify); unix sockets ignore it, as docker's do. */
  readonly tls?: TlsSettings | undefined;
}

/** The daemon address of a host spec; a tcp:// host without a port is 2376 with TLS, else 2375. */
export function parseDaemonHost(spec: string, tls = false): Target {
  if (spec.startsWith('unix://')) return { socketPath: spec.slice(7) };
  if (spec.startsWith('tcp://') || spec.startsWith('http://') || spec.startsWith('https://')) {
    const u = new URL(spec.replace(/^tcp:/, 'http:').replace(/^https:/, 'http:'));
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (tls ? 2376 : 2375)) };
  }
  if (spec.startsWith('/')) return { socketPath: spec };
  if (spec.startsWith('ssh://')) return { ssh: parseSshHost(spec) };
  throw new Error(
    `invalid daemon host "${spec}": use unix:///path/to.sock, tcp://HOST:PORT or ssh://[user@]host[:port]`,
  );
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
  readonly #tls: TlsSettings | undefined;
  #wire: Promise<WireTarget> | undefined;

  constructor(hostSpec: string, options: ClientOptions = {}) {
    this.hostSpec = hostSpec;
    this.#tls = options.tls;
    this.#target = parseDaemonHost(hostSpec, options.tls !== undefined);
  }

  #wireTarget(): Promise<WireTarget> {
    const t = this.#target;
    // TLS settings apply to tcp:// only; ssh brings its own encryption and authentication.
    this.#wire ??=
      'ssh' in t
        ? Promise.resolve(sshTarget(t.ssh))
        : this.#tls && 'host' in t
          ? tlsTarget(t.host, t.port, this.#tls)
          : Promise.resolve(t);
    return this.#wire;
  }

  /** A raw connection to the daemon, for `system dial-stdio` (bytes in both directions, no HTTP). */
  async dial(): Promise<Duplex> {
    try {
      return await openRaw(await this.#wireTarget());
    } catch (err) {
      throw this.#connectError(err);
    }
  }

  #connectError(err: unknown): unknown {
    if (['ENOENT', 'ECONNREFUSED', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? ''))
      return new ConnectError(this.hostSpec, err);
    if (err instanceof SshError) return new SshConnectError(this.hostSpec, err);
    if (isTlsError(err)) return new TlsConnectError(this.hostSpec, err as Error);
    return err;
  }

  /** Sends a request and returns the raw response (status already checked). */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<WireResponse> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let body: Buffer | Readable | undefined;
    if (opts.body !== undefined) {
      body = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = 'application/json';
    } else if (opts.stream) {
      body = opts.stream;
      headers['Content-Type'] ??= 'application/x-tar';
    }
    const { response } = await this.#send({
      method,
      path: path + buildQuery(opts.query),
      headers,
      body,
      opts,
    });
    if (response.statusCode >= 400) throw await engineError(response);
    return response;
  }

  /** POST with `Upgrade: tcp` (attach, exec start): resolves with the raw connection. */
  async hijack(path: string, opts: RequestOptions = {}): Promise<Duplex> {
    const body = opts.body !== undefined ? Buffer.from(JSON.stringify(opts.body)) : undefined;
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp' };
    if (body) headers['Content-Type'] = 'application/json';
    const { response, socket } = await this.#send({
      method: 'POST',
      path: path + buildQuery(opts.query),
      headers,
      body,
      opts,
    });
    if (socket) return socket;
    if (response.statusCode >= 400) throw await engineError(response);
    // A daemon that does not upgrade streams the body in the plain response.
    return response as unknown as Duplex;
  }

  async #send(r: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body: Buffer | Readable | undefined;
    opts: RequestOptions;
  }) {
    try {
      return await wireRequest(await this.#wireTarget(), {
        method: r.method,
        path: r.path,
        headers: r.headers,
        ...(r.body !== undefined ? { body: r.body } : {}),
        ...(r.opts.signal ? { signal: r.opts.signal } : {}),
      });
    } catch (err) {
      throw this.#connectError(err);
    }
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

async function engineError(res: WireResponse): Promise<EngineError> {
  const text = (await readAll(res)).toString('utf8');
  let message = text.trim();
  try {
    message = (JSON.parse(message) as { message?: string }).message ?? message;
  } catch {
    /* plain text */
  }
  return new EngineError(res.statusCode, message);
}
