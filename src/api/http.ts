// Request/response helpers shared by every route: query parsing, body reading, JSON replies,
// Docker's `filters` parameter.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { span } from '../base/trace.ts';
import { InvalidArgumentError, TooLargeError } from '../errdefs/index.ts';
import { type FilterSpec, type Filters, parseFiltersJson } from './filters.ts';
import { decodeBody, type SchemaName } from './validate/index.ts';

export type { Filters } from './filters.ts';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Path parameters from the route. */
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  /** The API version this request speaks, e.g. `1.43` (the highest served for unversioned paths). */
  readonly version: string;
  readonly signal: AbortSignal;
  /**
   * Takes over the connection for a raw stream (attach, exec): answers `101 UPGRADED` when the
   * client asked for `Upgrade: tcp`, else a 200 with a raw-stream content type.
   */
  hijack(contentType?: string): import('node:stream').Duplex;
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  // Encoded once: the length and the socket write then share one UTF-8 pass (a 200-container
  // list is ~140 KB).
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

/** Docker's boolean query values: `1`, `true`, `True`; absent or `0`/`false` is false. */
export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  const s = v.trim().toLowerCase();
  if (s === '' || s === '0' || s === 'false' || s === 'no') return false;
  return true;
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  // As strconv.Atoi reads it: decimal digits only (no `1e3`, no `0x10`), and exactly representable.
  const n = Number(v);
  if (!/^[-+]?\d+$/.test(v) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(
      'INVALID_PARAMETER',
      `invalid value for ${name}: "${v}" is not an integer (give a whole number of at most 15 digits)`,
    );
  }
  return n;
}

/**
 * Docker's `filters` query parameter, checked against one endpoint's entry in FILTERS
 * (filters.ts): unknown keys, bad values and malformed JSON are 400s. A plain key list is
 * accepted for callers that take any value.
 */
export function parseFilters(q: URLSearchParams, spec: FilterSpec | readonly string[]): Filters {
  const table: FilterSpec = Array.isArray(spec)
    ? Object.fromEntries((spec as readonly string[]).map((k) => [k, null]))
    : (spec as FilterSpec);
  return parseFiltersJson(q.get('filters'), table);
}

function bodyTooLarge(limit: number): TooLargeError {
  return new TooLargeError(
    'BODY_TOO_LARGE',
    `request body larger than ${limit} bytes, the most this endpoint accepts; send a smaller body`,
  );
}

export async function readBody(req: IncomingMessage, limit = 4 << 20): Promise<Buffer> {
  // Upgrade requests (attach, exec start) carry their body read ahead by the server.
  const pre = (req as { berthBody?: Buffer }).berthBody;
  if (pre !== undefined) return pre;
  // A declared length over the limit is refused before a byte of it is read.
  if (Number(req.headers['content-length']) > limit) throw bodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw bodyTooLarge(limit);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The JSON body decoded as the endpoint's Engine API type (see validate/): every JSON body goes
 * through a schema, so a value a Go client could not read back is refused before it is stored.
 * Empty or `null` is undefined.
 */
export async function readJsonBody<T = Record<string, unknown>>(
  req: IncomingMessage,
  schema: SchemaName,
): Promise<T | undefined> {
  const buf = await span('http.body-read', () => readBody(req));
  if (buf.length === 0) return undefined;
  return span('http.body-decode', () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString('utf8')) as unknown;
    } catch (err) {
      throw new InvalidArgumentError(
        'INVALID_JSON',
        `invalid JSON in request body: ${(err as Error).message}`,
      );
    }
    return decodeBody<T>(schema, parsed);
  });
}

export { compareVersions } from './versions/index.ts';

/**
 * The request body as a stream a service may destroy: destroying the request itself would
 * reset the connection before the client reads the error reply. What the service leaves
 * unread is drained after the reply.
 */
export function requestBody(req: IncomingMessage): Readable {
  const body = new PassThrough({ highWaterMark: 1 << 20 });
  // A client that disconnects mid-upload must fail the operation, never crash the daemon: the
  // consumer sees the error through its own listeners; this one only keeps it from being unhandled.
  body.on('error', () => {});
  req.pipe(body);
  req.on('error', (err) => body.destroy(err));
  body.on('close', () => {
    req.unpipe(body);
    if (!req.readableEnded) req.resume();
  });
  return body;
}

/** The `h` and `w` query parameters of the resize endpoints. */
export function terminalSize(q: URLSearchParams): { height: number; width: number } {
  const parse = (name: string): number => {
    const raw = q.get(name) ?? '';
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n > 65535) {
      throw new InvalidArgumentError(
        'INVALID_TERMINAL_SIZE',
        `invalid terminal ${name === 'h' ? 'height' : 'width'} "${raw}": give ${name}= as a whole number of ${name === 'h' ? 'rows' : 'columns'} (0-65535)`,
      );
    }
    return n;
  };
  return { height: parse('h'), width: parse('w') };
}

/**
 * Waits until the client has sent its whole request body (at most `ms`), the rest discarded.
 * A reply sent while the client still uploads makes the client's next write fail (EPIPE), and
 * a client may then drop the reply unread; an in-band error (load, import) is sent after this.
 */
export function drainRequest(req: IncomingMessage, ms = 10_000): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      req.off('end', done);
      req.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    req.on('end', done);
    req.on('close', done);
    req.resume();
  });
}
