// What a registry request needs from its caller, and how a refusal is written. Kept apart from
// app.ts and auth.ts so both can use it without importing each other's values.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Access = 'pull' | 'push' | 'delete';

/**
 * A repository action, the catalog (Docker's `registry:catalog:*` scope), or `undefined` for
 * "any authenticated caller" (`/v2/`).
 */
export type Need =
  | { readonly repository: string; readonly action: Access }
  | { readonly catalog: true }
  | undefined;

/** A refusal: 401 with a challenge, or 429 with Retry-After after repeated failed logins. */
export interface Denial {
  readonly status: 401 | 429;
  readonly code: string;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Decides whether a request may go on: undefined when it may, else how to refuse it. */
export type Authorizer = (req: IncomingMessage, need: Need) => Promise<Denial | undefined>;

/** The token scope a need asks for (`repository:team/app:pull,push`, `registry:catalog:*`). */
export function scopeOf(need: Need): string | undefined {
  if (!need) return undefined;
  if ('catalog' in need) return 'registry:catalog:*';
  return `repository:${need.repository}:${need.action === 'pull' ? 'pull' : `pull,${need.action}`}`;
}

/**
 * `Scheme k="v",k="v"` as RFC 7235 §4.1 has it: auth-params separated by commas, values as
 * quoted-strings with `"` and `\` escaped.
 */
export function formatChallenge(scheme: string, params: readonly (readonly [string, string])[]): string {
  const quoted = params.map(([k, v]) => `${k}="${v.replace(/["\\]/g, '\\$&')}"`);
  return quoted.length > 0 ? `${scheme} ${quoted.join(',')}` : scheme;
}

/** The peer's address for rate limits (IPv4-mapped IPv6 shown as IPv4). */
export function peerAddress(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
}

export function tooManyAttempts(retryAfterSeconds: number): Denial {
  const s = Math.max(1, Math.ceil(retryAfterSeconds));
  return {
    status: 429,
    code: 'TOOMANYREQUESTS',
    message: `too many failed logins from this address or for this user: retry in ${s} s`,
    headers: { 'Retry-After': String(s) },
  };
}

export function writeDenial(req: IncomingMessage, res: ServerResponse, d: Denial): void {
  const body = JSON.stringify({ errors: [{ code: d.code, message: d.message }] });
  // The request body (an upload) is not read: close the connection rather than drain it.
  if (!req.complete) {
    res.setHeader('Connection', 'close');
    req.resume();
  }
  res.writeHead(d.status, {
    ...d.headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Docker-Distribution-Api-Version': 'registry/2.0',
  });
  res.end(body);
}
