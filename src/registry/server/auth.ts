// Authentication for Berth's registry server.
//
// - htpasswd (bcrypt) Basic auth: every request carries the user's password; every
//   authenticated user may do everything, the catalog included (one level of trust).
// - token mode: the same server also serves `/token` (the registry token spec's realm): a user
//   authenticates there with Basic auth and receives a short-lived HMAC-signed token (JWT, HS256)
//   whose `access` claim lists what was granted; API requests carry it as Bearer. Grants come
//   from an ACL: `user:repository-pattern:actions` (`*` matches any); the catalog
//   (`registry:catalog:*`, also needed by /v1/search) only for a `user:*:catalog` rule.
// Password checks (credentials.ts) are rate-limited and run bcrypt off the event loop.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Access,
  type Authorizer,
  type Denial,
  formatChallenge,
  type Need,
  peerAddress,
  scopeOf,
  tooManyAttempts,
  writeDenial,
} from './access.ts';
import type { Htpasswd } from './credentials.ts';

export { Htpasswd } from './credentials.ts';

function basicCredentials(req: IncomingMessage): { user: string; password: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { user: text.slice(0, i), password: text.slice(i + 1) };
}

function unauthorized(challenge: string, message: string, code = 'UNAUTHORIZED'): Denial {
  return { status: 401, code, message, headers: { 'WWW-Authenticate': challenge } };
}

/** Checks Basic credentials: undefined when valid, else the 401 or 429 to answer. */
async function checkBasic(htpasswd: Htpasswd, req: IncomingMessage, challenge: string, message: string) {
  const c = basicCredentials(req);
  if (!c) return unauthorized(challenge, 'authentication required');
  const r = await htpasswd.check(c.user, c.password, peerAddress(req));
  if (r.ok) return undefined;
  if (r.retryAfterSeconds !== undefined) return tooManyAttempts(r.retryAfterSeconds);
  return unauthorized(challenge, message, 'UNAUTHORIZED');
}

/** Basic auth against an htpasswd file: any authenticated user may do anything. */
export function basicAuthorizer(htpasswd: Htpasswd, realm = 'berth-registry'): Authorizer {
  const challenge = formatChallenge('Basic', [['realm', realm]]);
  return (req) => checkBasic(htpasswd, req, challenge, 'authentication required');
}

/** An ACL action: a repository action, or `catalog` (listing every repository). */
export type AclAction = Access | 'catalog';

export interface AclRule {
  readonly user: string; // '*' for everyone authenticated
  readonly repository: string; // exact name, prefix/*, or *
  readonly actions: readonly AclAction[];
}

/** `user:repo-pattern:pull,push` lines (or a single `user:pull,push` for every repository). */
export function parseAcl(lines: readonly string[]): AclRule[] {
  return lines.map((l) => {
    const parts = l.split(':');
    if (parts.length < 2 || parts.length > 3)
      throw new Error(`bad ACL rule "${l}": use user:repository:actions`);
    const [user, repository, actions] =
      parts.length === 2 ? [parts[0]!, '*', parts[1]!] : [parts[0]!, parts[1]!, parts[2]!];
    const list = actions.split(',').map((a) => a.trim()) as AclAction[];
    for (const a of list) {
      if (!['pull', 'push', 'delete', 'catalog'].includes(a))
        throw new Error(`bad action "${a}" in ACL rule "${l}": use pull, push, delete or catalog`);
      if (a === 'catalog' && repository !== '*')
        throw new Error(
          `bad ACL rule "${l}": catalog lists every repository, so write it as ${user}:*:catalog`,
        );
    }
    return { user, repository, actions: list };
  });
}

function granted(acl: readonly AclRule[], user: string, repo: string): Set<AclAction> {
  const out = new Set<AclAction>();
  for (const r of acl) {
    if (r.user !== '*' && r.user !== user) continue;
    const match =
      r.repository === '*' ||
      r.repository === repo ||
      (r.repository.endsWith('/*') && repo.startsWith(r.repository.slice(0, -1)));
    if (match) for (const a of r.actions) out.add(a);
  }
  return out;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export interface TokenAuthOptions {
  readonly htpasswd: Htpasswd;
  readonly secret: Buffer;
  readonly acl: readonly AclRule[];
  /** `https://host:port/token` as clients must reach it. */
  readonly realm: string;
  readonly service: string;
  readonly ttlSeconds?: number;
  readonly now?: () => number;
}

interface Claims {
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  access: { type: string; name: string; actions: string[] }[];
}

/** Whether a token's claims cover a need (`undefined`: any valid token). */
function covers(claims: Claims, need: Need): boolean {
  if (!need) return true;
  if ('catalog' in need)
    return claims.access.some(
      (a) => a.type === 'registry' && a.name === 'catalog' && a.actions.includes('*'),
    );
  return claims.access.some(
    (a) => a.type === 'repository' && a.name === need.repository && a.actions.includes(need.action),
  );
}

export class TokenAuth {
  readonly #o: TokenAuthOptions;

  constructor(o: TokenAuthOptions) {
    this.#o = o;
  }

  #now(): number {
    return Math.floor((this.#o.now ?? Date.now)() / 1000);
  }

  sign(claims: Claims): string {
    const head = b64({ alg: 'HS256', typ: 'JWT' });
    const body = b64(claims);
    const sig = createHmac('sha256', this.#o.secret).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${sig}`;
  }

  verify(token: string): Claims | undefined {
    const [head, body, sig] = token.split('.');
    if (!head || !body || !sig) return undefined;
    const want = createHmac('sha256', this.#o.secret).update(`${head}.${body}`).digest();
    const got = Buffer.from(sig, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Claims;
    if (claims.aud !== this.#o.service || claims.exp <= this.#now()) return undefined;
    return claims;
  }

  /** The access a user gets for the requested scopes (ungranted actions are dropped). */
  #grant(user: string, scopes: readonly string[]): Claims['access'] {
    const access: Claims['access'] = [];
    for (const scope of scopes) {
      if (scope === 'registry:catalog:*') {
        if (this.#o.acl.some((r) => (r.user === '*' || r.user === user) && r.actions.includes('catalog')))
          access.push({ type: 'registry', name: 'catalog', actions: ['*'] });
        continue;
      }
      const m = /^repository:([^:]+):(.+)$/.exec(scope);
      if (!m) continue;
      const allowed = granted(this.#o.acl, user, m[1]!);
      const actions = m[2]!
        .split(',')
        .filter((a) => (a !== 'catalog' && allowed.has(a as Access)) || (a === '*' && allowed.size > 0));
      access.push({ type: 'repository', name: m[1]!, actions });
    }
    return access;
  }

  /** GET /token?service=&scope=…: Basic credentials in, a token with the granted actions out. */
  async handleToken(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const c = basicCredentials(req);
    const challenge = formatChallenge('Basic', [['realm', this.#o.service]]);
    const denial = await checkBasic(this.#o.htpasswd, req, challenge, 'invalid user name or password');
    if (denial || !c) {
      writeDenial(req, res, denial ?? unauthorized(challenge, 'authentication required'));
      return;
    }
    const access = this.#grant(
      c.user,
      query.getAll('scope').flatMap((s) => s.split(' ').filter(Boolean)),
    );
    const now = this.#now();
    const ttl = this.#o.ttlSeconds ?? 300;
    const token = this.sign({ sub: c.user, aud: this.#o.service, iat: now, exp: now + ttl, access });
    const body = JSON.stringify({
      token,
      access_token: token,
      expires_in: ttl,
      issued_at: new Date(now * 1000).toISOString(),
    });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  authorizer(): Authorizer {
    return async (req, need) => {
      const scope = scopeOf(need);
      const params: [string, string][] = [
        ['realm', this.#o.realm],
        ['service', this.#o.service],
        ...(scope ? [['scope', scope] as [string, string]] : []),
      ];
      const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
      const claims = m ? this.verify(m[1]!) : undefined;
      if (!claims) return unauthorized(formatChallenge('Bearer', params), 'authentication required');
      if (covers(claims, need)) return undefined;
      // An insufficient scope is a 401 with the scope to ask for (clients fetch a new token).
      return unauthorized(
        formatChallenge('Bearer', [...params, ['error', 'insufficient_scope']]),
        `the token does not grant ${scope}: ask the registry's administrator for that access`,
        'DENIED',
      );
    };
  }
}
