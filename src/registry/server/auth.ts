// Authentication for Berth's registry server.
//
// - htpasswd (bcrypt) Basic auth: every request carries the user's password.
// - token mode: the same server also serves `/token` (the registry token spec's realm): a user
//   authenticates there with Basic auth and receives a short-lived HMAC-signed token (JWT, HS256)
//   whose `access` claim lists the repository actions granted; API requests carry it as Bearer.
//   Grants come from an ACL: `user:actions` per repository pattern (`*` matches any).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import bcrypt from 'bcryptjs';
import type { Access, Authorizer } from './app.ts';

export class Htpasswd {
  readonly #users = new Map<string, string>();
  /** Verified user:password pairs (bcrypt is slow by design; checks repeat on every request). */
  readonly #verified = new Map<string, number>();

  constructor(text: string) {
    for (const line of text.split('\n')) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const hash = line.slice(i + 1).trim();
      if (!/^\$2[aby]\$\d\d\$/.test(hash)) {
        throw new Error(`htpasswd entry for "${line.slice(0, i)}" is not bcrypt: create it with htpasswd -B`);
      }
      this.#users.set(line.slice(0, i), hash);
    }
  }

  static load(file: string): Htpasswd {
    return new Htpasswd(readFileSync(file, 'utf8'));
  }

  check(user: string, password: string): boolean {
    const hash = this.#users.get(user);
    if (!hash) return false;
    const key = createHmac('sha256', hash).update(password).digest('hex');
    const until = this.#verified.get(`${user}:${key}`);
    if (until && until > Date.now()) return true;
    if (!bcrypt.compareSync(password, hash)) return false;
    this.#verified.set(`${user}:${key}`, Date.now() + 5 * 60_000);
    return true;
  }
}

function basicCredentials(req: IncomingMessage): { user: string; password: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { user: text.slice(0, i), password: text.slice(i + 1) };
}

function unauthorized(res: ServerResponse, challenge: string, message: string, code = 'UNAUTHORIZED'): false {
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(401, {
    'WWW-Authenticate': challenge,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Docker-Distribution-Api-Version': 'registry/2.0',
  });
  res.end(body);
  return false;
}

/** Basic auth against an htpasswd file: any authenticated user may pull, push and delete. */
export function basicAuthorizer(htpasswd: Htpasswd, realm = 'berth-registry'): Authorizer {
  return async (req, res) => {
    const c = basicCredentials(req);
    if (c && htpasswd.check(c.user, c.password)) return true;
    return unauthorized(res, `Basic realm="${realm}"`, 'authentication required');
  };
}

export interface AclRule {
  readonly user: string; // '*' for everyone authenticated
  readonly repository: string; // exact name, prefix/*, or *
  readonly actions: readonly Access[];
}

/** `user:repo-pattern:pull,push` lines (or a single `user:pull,push` for every repository). */
export function parseAcl(lines: readonly string[]): AclRule[] {
  return lines.map((l) => {
    const parts = l.split(':');
    if (parts.length < 2 || parts.length > 3)
      throw new Error(`bad ACL rule "${l}": use user:repository:actions`);
    const [user, repository, actions] =
      parts.length === 2 ? [parts[0]!, '*', parts[1]!] : [parts[0]!, parts[1]!, parts[2]!];
    const list = actions.split(',').map((a) => a.trim()) as Access[];
    for (const a of list) {
      if (!['pull', 'push', 'delete'].includes(a)) throw new Error(`bad action "${a}" in ACL rule "${l}"`);
    }
    return { user, repository, actions: list };
  });
}

function granted(acl: readonly AclRule[], user: string, repo: string): Set<Access> {
  const out = new Set<Access>();
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

  /** GET /token?service=&scope=…: Basic credentials in, a token with the granted actions out. */
  handleToken(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const c = basicCredentials(req);
    if (!c || !this.#o.htpasswd.check(c.user, c.password)) {
      unauthorized(res, `Basic realm="${this.#o.service}"`, 'invalid user name or password', 'DENIED');
      return;
    }
    const access: Claims['access'] = [];
    for (const scope of query.getAll('scope').flatMap((s) => s.split(' '))) {
      const m = /^repository:([^:]+):(.+)$/.exec(scope);
      if (!m) continue;
      const allowed = granted(this.#o.acl, c.user, m[1]!);
      const actions = m[2]!
        .split(',')
        .filter((a) => allowed.has(a as Access) || (a === '*' && allowed.size > 0));
      access.push({ type: 'repository', name: m[1]!, actions });
    }
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
    return async (req, res, repo, access) => {
      const scope = repo
        ? ` scope="repository:${repo}:${access === 'pull' ? 'pull' : `pull,${access}`}"`
        : '';
      const challenge = `Bearer realm="${this.#o.realm}",service="${this.#o.service}"${scope}`;
      const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
      const claims = m ? this.verify(m[1]!) : undefined;
      if (!claims) return unauthorized(res, challenge, 'authentication required');
      if (!repo) return true;
      const ok = claims.access.some(
        (a) => a.type === 'repository' && a.name === repo && a.actions.includes(access),
      );
      if (ok) return true;
      // An insufficient scope is a 401 with the scope to ask for (clients fetch a new token).
      return unauthorized(
        res,
        `${challenge},error="insufficient_scope"`,
        `token does not grant ${access} on ${repo}`,
        'DENIED',
      );
    };
  }
}
