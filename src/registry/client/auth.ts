// Registry authentication (../shared/reference/registry/): a 401 carries a WWW-Authenticate
// challenge; Basic sends the credentials on each request; Bearer trades them (or nothing, for
// anonymous pulls) at the realm for a token scoped to `repository:<name>:pull[,push]`, cached
// until it expires.
import { ForbiddenError, UnavailableError } from '../../errdefs/index.ts';
import { readBody, request } from './http.ts';

export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  /** An identity token (refresh token) from a previous login. */
  readonly identitytoken?: string;
  /** A ready bearer token (X-Registry-Auth `registrytoken`). */
  readonly registrytoken?: string;
}

export interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (also several challenges separated by commas). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const out: Challenge[] = [];
  const re = /(\w+)\s+((?:[\w-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?\s*)+)/g;
  for (const m of text.matchAll(re)) {
    const scheme = m[1]!.toLowerCase();
    if (scheme !== 'basic' && scheme !== 'bearer') continue;
    const params: Record<string, string> = {};
    for (const p of m[2]!.matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
      params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
    }
    out.push({ scheme, params });
  }
  // `Basic realm="x"` alone (no comma list) is common too.
  if (out.length === 0 && /^\s*basic\b/i.test(text)) out.push({ scheme: 'basic', params: {} });
  return out;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** Authorization headers per registry and scope, with tokens cached until shortly before expiry. */
export class Authenticator {
  readonly #tokens = new Map<string, CachedToken>();
  readonly #challenges = new Map<string, Challenge>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Remembers the challenge a registry answered with. */
  noteChallenge(registry: string, header: string | string[] | undefined): Challenge | undefined {
    const cs = parseChallenges(header);
    const c = cs.find((x) => x.scheme === 'bearer') ?? cs[0];
    if (c) this.#challenges.set(registry, c);
    return c;
  }

  /** The Authorization header for a request, or undefined when the registry asked for none (yet). */
  async header(
    registry: string,
    scope: string,
    creds: Credentials | undefined,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    if (creds?.registrytoken) return `Bearer ${creds.registrytoken}`;
    const c = this.#challenges.get(registry);
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      if (!creds?.username) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
    }
    const key = `${registry}|${scope}|${creds?.username ?? ''}`;
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > this.#now()) return `Bearer ${cached.token}`;
    const token = await this.#fetchToken(c, scope, creds, signal);
    this.#tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  /** Forgets a token the registry refused (it may have been revoked early). */
  invalidate(registry: string, scope: string, creds: Credentials | undefined): void {
    this.#tokens.delete(`${registry}|${scope}|${creds?.username ?? ''}`);
  }

  async #fetchToken(
    c: Challenge,
    scope: string,
    creds: Credentials | undefined,
    signal?: AbortSignal,
  ): Promise<CachedToken> {
    const realm = c.params.realm;
    // None of these is an UnauthorizedError: that kind is a 401 from the daemon, which the docker
    // CLI answers with a password prompt; only `docker login` (RegistryClient.login) may give it.
    if (!realm) throw new UnavailableError('NO_REALM', 'the registry asked for a token but named no realm');
    const url = new URL(realm);
    if (c.params.service) url.searchParams.set('service', c.params.service);
    // Several scopes (a mount needs push here and pull on the source) go as repeated `scope`
    // parameters, as Docker's client sends them.
    for (const one of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', one);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (creds?.username) {
      headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
    }
    const res = await request({ method: 'GET', url, headers, ...(signal ? { signal } : {}) });
    const body = await readBody(res.body, 1 << 20);
    if (res.status === 401 || res.status === 403) {
      throw new ForbiddenError(
        'TOKEN_DENIED',
        `the registry's token service (${url.host}) refused the credentials: ${creds?.username ? 'check the user name and password, or log in again' : "log in first with 'docker login'"}`,
      );
    }
    if (res.status !== 200) {
      throw new UnavailableError(
        'TOKEN_FAILED',
        `token request to ${url.host} failed with HTTP ${res.status}`,
      );
    }
    const json = JSON.parse(body.toString('utf8')) as {
      token?: string;
      access_token?: string;
      expires_in?: number;
    };
    const token = json.token ?? json.access_token;
    if (!token)
      throw new UnavailableError('TOKEN_FAILED', `the token service at ${url.host} returned no token`);
    // Renew 10 s early; the spec's default lifetime is 60 s.
    const life = (json.expires_in && json.expires_in > 0 ? json.expires_in : 60) * 1000;
    return { token, expiresAt: this.#now() + Math.max(0, life - 10_000) };
  }
}
