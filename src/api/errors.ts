// The one place where error categories become HTTP statuses and Docker's `{"message": ...}` body.
import type { ServerResponse } from 'node:http';
import { type ErrorKind, errorMessage, isBerthError } from '../errdefs/index.ts';

const STATUS_BY_KIND = {
  'not-modified': 304,
  'invalid-argument': 400,
  // Only POST /auth throws this kind (the daemon refusing credentials): the docker CLI answers a
  // 401 from any other route with a password prompt, so registry refusals on pull/push/build are
  // not-found / forbidden (src/registry/client/session.ts).
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'failed-precondition': 409,
  internal: 500,
  'not-implemented': 501,
  'too-large': 413,
  unavailable: 503,
} as const satisfies Record<ErrorKind, number>;

/**
 * System errors that only a client's input can cause: a name or path longer than the filesystem
 * takes (a volume name, a build's `dockerfile=`...) is the client's to shorten, not a daemon fault.
 */
const CLIENT_ERRNOS: ReadonlySet<string> = new Set(['ENAMETOOLONG']);

/** The message for a CLIENT_ERRNOS error: what to do, without the daemon's own paths. */
function clientErrnoMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return `a name or path in the request is too long for the filesystem (${e.code}${e.syscall ? ` in ${e.syscall}` : ''}): give a shorter one (at most 255 bytes per path component)`;
}

export function statusOf(err: unknown): number {
  if (isBerthError(err)) return STATUS_BY_KIND[err.kind];
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && CLIENT_ERRNOS.has(code) ? 400 : 500;
}

export function writeError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  if (status === 304) {
    res.writeHead(304);
    res.end();
    return;
  }
  const body = JSON.stringify({
    message: status === 400 && !isBerthError(err) ? clientErrnoMessage(err) : errorMessage(err),
  });
  if (res.headersSent) {
    // Streaming responses report errors in-band (see streams/json-lines.ts); here we can only end.
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
