// HTTP for the registry client: node:http/https with per-registry TLS (system CAs plus
// certs.d/<host>/ca.crt), manual redirects (blob downloads often redirect to storage hosts, and
// credentials must not follow them there), timeouts, and retries with back-off on 5xx and
// connection resets. node:https rather than fetch: fetch cannot take per-host CAs without the
// undici package.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import type { Readable } from 'node:stream';

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Readable;
  /** The URL that answered (after redirects). */
  readonly url: URL;
}

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | Readable;
  readonly signal?: AbortSignal;
  /** Milliseconds with nothing received or sent (before the headers or within the body) before giving up. Default 30 s. */
  readonly timeoutMs?: number;
  /** Where per-registry CA certificates are looked up (default CERT_DIRS). */
  readonly caDirs?: readonly string[];
  /** Accept any certificate (an insecure registry, as Docker treats loopback and `insecure-registries`). */
  readonly skipVerify?: boolean;
}

/** Where per-registry CA certificates live, Berth's first, then Docker's. */
export const CERT_DIRS = ['/etc/berth/certs.d', '/etc/docker/certs.d'];

/** Found CAs per host folder, valid while the folders' mtimes stay the same. */
const caCache = new Map<string, { stamp: string; cas: Buffer[] | undefined }>();

/**
 * Extra CA certificates for `host[:port]` (every *.crt in its certs.d folder). Read again when a
 * folder changes (a stat per request), so a CA placed while berthd runs is used at once, as in
 * Docker.
 */
export function registryCAs(hostPort: string, dirs: readonly string[] = CERT_DIRS): Buffer[] | undefined {
  const folders = dirs.map((d) => path.join(d, hostPort));
  const stamp = folders
    .map((f) => {
      try {
        return String(statSync(f).mtimeMs);
      } catch {
        return '-';
      }
    })
    .join('|');
  const key = `${dirs.join(':')}|${hostPort}`;
  const cached = caCache.get(key);
  if (cached?.stamp === stamp) return cached.cas;
  const found: Buffer[] = [];
  for (const dir of folders) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (n.endsWith('.crt')) found.push(readFileSync(path.join(dir, n)));
  }
  const cas = found.length > 0 ? found : undefined;
  caCache.set(key, { stamp, cas });
  return cas;
}

/** How long a registry may send nothing before a request is abandoned. */
export const DEFAULT_IDLE_MS = 30_000;

export class TransportError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

function once(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const isHttps = req.url.protocol === 'https:';
    const mod = isHttps ? https : http;
    const ca = isHttps ? registryCAs(req.url.host, req.caDirs) : undefined;
    let response: http.IncomingMessage | undefined;
    const r = mod.request(
      req.url,
      {
        method: req.method,
        headers: req.headers,
        // An explicit `ca` replaces Node's bundled roots: keep them and add the registry's own.
        ...(ca ? { ca: [...tls.rootCertificates, ...ca] } : {}),
        ...(isHttps && req.skipVerify ? { rejectUnauthorized: false } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      },
      (res) => {
        response = res;
        // Node reports a registry that closes mid-body as a bare "aborted"; every reader of the
        // body sees this same error object, so name the registry and what was cut short here.
        res.prependListener('error', (err: NodeJS.ErrnoException) => {
          if (err.message === 'aborted') {
            const declared = res.headers['content-length'];
            err.message = `${req.url.host} closed the connection before the response was complete (${req.method} ${req.url.pathname}${declared ? `, ${declared} bytes announced` : ''})`;
          }
        });
        // The body streams after this: a registry that stops sending mid-body trips the same
        // idle timer, and the reader sees that error instead of waiting forever.
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url });
      },
    );
    // An idle timer on the socket, not a deadline: it covers the wait for headers and every
    // gap in the body (a registry that sends headers, or part of a blob, then stalls), and it
    // never cuts a slow but moving upload or download.
    const idleMs = req.timeoutMs ?? DEFAULT_IDLE_MS;
    r.setTimeout(idleMs, () => {
      const err = new TransportError(
        `${req.url.host} sent nothing for ${idleMs / 1000}s (${req.method} ${req.url.pathname}); giving up`,
        'ETIMEDOUT',
      );
      response?.destroy(err);
      r.destroy(err);
    });
    r.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err instanceof TransportError ? err : new TransportError(`${req.url.host}: ${err.message}`, err.code),
      );
    });
    if (req.body === undefined) r.end();
    else if (Buffer.isBuffer(req.body)) r.end(req.body);
    else req.body.pipe(r);
  });
}

const RETRYABLE = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/**
 * One request with redirects followed (Authorization dropped when the host changes) and, for
 * requests without a streamed body, up to `retries` retries on 5xx/429 and resets.
 */
export async function request(req: HttpRequest, retries = 3): Promise<HttpResponse> {
  let attempt = 0;
  for (;;) {
    try {
      let cur = req;
      for (let hops = 0; ; hops++) {
        const res = await once(cur);
        const loc = res.headers.location;
        if ([301, 302, 303, 307, 308].includes(res.status) && loc && hops < 5) {
          res.body.resume();
          const next = new URL(loc, cur.url);
          const headers = { ...(cur.headers ?? {}) };
          if (next.host !== req.url.host) delete headers.Authorization;
          const method = res.status === 303 ? 'GET' : cur.method;
          cur = { ...cur, url: next, headers, method };
          continue;
        }
        const canRetry = !(req.body && !Buffer.isBuffer(req.body));
        if (canRetry && (res.status >= 500 || res.status === 429) && attempt < retries) {
          res.body.resume();
          throw new TransportError(`${req.url.host} answered ${res.status}`, `HTTP_${res.status}`);
        }
        return res;
      }
    } catch (err) {
      const code = (err as TransportError).code ?? '';
      const retryable = RETRYABLE.has(code) || code.startsWith('HTTP_');
      const streamed = req.body !== undefined && !Buffer.isBuffer(req.body);
      if (!retryable || streamed || attempt >= retries || req.signal?.aborted) throw err;
      attempt++;
      await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
    }
  }
}

/** Reads a whole (small) body, refusing more than `limit` bytes. */
export async function readBody(body: Readable, limit = 8 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += (c as Buffer).length;
    if (n > limit) {
      body.destroy();
      throw new TransportError(`response larger than ${limit} bytes`, 'TOO_LARGE');
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
