// A registry client for one repository: endpoint and scheme choice (HTTPS; plain HTTP only for
// loopback and `insecure-registries`, as Docker), authentication on 401, manifests and blobs.
import net from 'node:net';
import type { Readable } from 'node:stream';
import {
  ForbiddenError,
  InvalidArgumentError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '../../errdefs/index.ts';
import { type Digest, sha256Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import type { Reference } from '../../oci/reference.ts';
import { Authenticator, type Credentials } from './auth.ts';
import { type HttpResponse, readBody, request, TransportError } from './http.ts';
import { PushSession } from './push-session.ts';

export interface RegistryClientOptions {
  /** Hosts (`host:port`) or CIDRs where plain HTTP is allowed. */
  readonly insecureRegistries?: readonly string[];
  /** Mirrors tried first for docker.io (`https://mirror.example`). */
  readonly mirrors?: readonly string[];
  /** Directories of per-registry CA certificates (`<dir>/<host:port>/*.crt`); default CERT_DIRS. */
  readonly certsDirs?: readonly string[];
  /** How long a registry may send nothing, mid-response included, before a request fails (default 30 s). */
  readonly idleTimeoutMs?: number;
}

export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
  MediaType.OciManifest,
  MediaType.DockerManifest,
].join(', ');

/** The API host of a reference's registry (docker.io is served by registry-1.docker.io). */
export function registryHost(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' ? 'registry-1.docker.io' : domain;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  return h === '::1';
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!net.isIPv4(ip) || !base || !net.isIPv4(base) || !(bits >= 0 && bits <= 32)) return false;
  const n = (s: string) => s.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (n(ip) & mask) === (n(base) & mask);
}

export class RegistryClient {
  #opts: RegistryClientOptions;
  readonly auth = new Authenticator();
  /** The scheme that worked per host, so insecure registries are probed once. */
  readonly #scheme = new Map<string, 'https:' | 'http:'>();

  constructor(opts: RegistryClientOptions = {}) {
    this.#opts = opts;
  }

  /**
   * berthd's SIGHUP: new insecure registries and mirrors for requests from now on. The schemes
   * learnt so far are forgotten, since a registry may no longer be allowed plain HTTP.
   */
  reconfigure(o: Pick<RegistryClientOptions, 'insecureRegistries' | 'mirrors'>): void {
    this.#opts = { ...this.#opts, ...o };
    this.#scheme.clear();
  }

  /** `host:port` of each configured docker.io mirror (plain HTTP allowed where insecure). */
  mirrorHosts(): string[] {
    return (this.#opts.mirrors ?? []).flatMap((m) => {
      try {
        const u = new URL(m.includes('://') ? m : `https://${m}`);
        if (u.protocol === 'http:') this.#scheme.set(u.host, 'http:');
        return [u.host];
      } catch {
        return [];
      }
    });
  }

  /** Whether plain HTTP may be used for `host` (loopback, or listed as insecure). */
  insecure(host: string): boolean {
    if (isLoopback(host)) return true;
    const bare = host.replace(/:\d+$/, '');
    return (this.#opts.insecureRegistries ?? []).some(
      (r) => r === host || r === bare || (r.includes('/') && inCidr(bare, r)),
    );
  }

  repository(ref: Reference, creds?: Credentials): RepositorySession {
    return new RepositorySession(this, ref, creds);
  }

  /**
   * Checks credentials against a registry (`docker login`): GET /v2/ answered 200 after the
   * registry's challenge was met with them.
   */
  async login(host: string, creds: Credentials, signal?: AbortSignal): Promise<void> {
    const api = registryHost(host);
    const probe = () =>
      this.send(api, '/v2/', {
        method: 'GET',
        headers: {},
        ...(signal ? { signal } : {}),
      });
    let res = await probe();
    res.body.resume();
    if (res.status === 200) return; // no auth at all: Docker reports success too
    if (res.status !== 401) {
      throw new UnavailableError(
        'REGISTRY_ERROR',
        `login to ${host} failed: the registry answered HTTP ${res.status} for /v2/`,
      );
    }
    const auth = new Authenticator();
    auth.noteChallenge(api, res.headers['www-authenticate']);
    // Refused credentials are the one registry answer that is a 401 from the daemon (POST /auth).
    const header = await auth.header(api, '', creds, signal).catch((err: unknown) => {
      if (err instanceof ForbiddenError && err.code === 'TOKEN_DENIED')
        throw new UnauthorizedError(
          'LOGIN_FAILED',
          `login to ${host} failed: unauthorized: incorrect username or password`,
        );
      throw err;
    });
    if (!header)
      throw new UnauthorizedError(
        'LOGIN_FAILED',
        `login to ${host} failed: the registry's challenge is not one Berth can answer`,
      );
    res = await this.send(api, '/v2/', {
      method: 'GET',
      headers: { Authorization: header },
      ...(signal ? { signal } : {}),
    });
    res.body.resume();
    if (res.status !== 200) {
      throw new UnauthorizedError(
        'LOGIN_FAILED',
        `login to ${host} failed: unauthorized: incorrect username or password`,
      );
    }
  }

  /**
   * The v1 search API (`GET /v1/search?q=`), which Docker Hub and Berth's own registry serve;
   * registries without it answer 404, reported as such.
   */
  async search(
    host: string,
    term: string,
    limit: number,
    signal?: AbortSignal,
  ): Promise<
    { name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }[]
  > {
    const api = host === 'docker.io' ? 'index.docker.io' : host;
    const res = await this.send(api, `/v1/search?q=${encodeURIComponent(term)}&n=${limit}`, {
      method: 'GET',
      headers: { Accept: 'application/json' },
      ...(signal ? { signal } : {}),
    });
    const body = await readBody(res.body, 8 << 20);
    if (res.status === 404) {
      throw new NotFoundError(
        'SEARCH_UNSUPPORTED',
        `the registry ${host} does not offer search (its /v1/search answered 404)`,
      );
    }
    if (res.status !== 200) {
      throw new UnavailableError('SEARCH_FAILED', `search on ${host} failed with HTTP ${res.status}`);
    }
    const json = JSON.parse(body.toString('utf8')) as { results?: Record<string, unknown>[] };
    return (json.results ?? []).map((r) => ({
      name: String(r.name ?? ''),
      description: String(r.description ?? ''),
      star_count: Number(r.star_count ?? 0),
      is_official: Boolean(r.is_official),
      is_automated: Boolean(r.is_automated),
    }));
  }

  pushTo(ref: Reference, creds?: Credentials): PushSession {
    return new PushSession(new RepositorySession(this, ref, creds));
  }

  /** A request to `host` with the scheme rules applied; tries HTTPS first, then HTTP if allowed. */
  async send(
    host: string,
    pathAndQuery: string,
    init: { method: string; headers: Record<string, string>; body?: Buffer | Readable; signal?: AbortSignal },
  ): Promise<HttpResponse> {
    const known = this.#scheme.get(host);
    const schemes: ('https:' | 'http:')[] = known
      ? [known]
      : this.insecure(host)
        ? ['https:', 'http:']
        : ['https:'];
    let lastErr: unknown;
    for (const scheme of schemes) {
      try {
        // An insecure registry (loopback, or listed) is not verified over TLS either, as Docker.
        const res = await request({
          ...init,
          url: new URL(`${scheme}//${host}${pathAndQuery}`),
          ...(this.#opts.certsDirs ? { caDirs: this.#opts.certsDirs } : {}),
          skipVerify: this.insecure(host),
          ...(this.#opts.idleTimeoutMs ? { timeoutMs: this.#opts.idleTimeoutMs } : {}),
        });
        this.#scheme.set(host, scheme);
        return res;
      } catch (err) {
        lastErr = err;
        if (init.body && !Buffer.isBuffer(init.body)) break;
      }
    }
    const msg = lastErr instanceof Error ? lastErr.message : String(lastErr);
    throw new UnavailableError(
      'REGISTRY_UNREACHABLE',
      `cannot reach the registry ${host}: ${msg}${this.insecure(host) ? '' : ' (for a plain-HTTP registry add it to "insecure-registries" in daemon.json)'}`,
    );
  }
}

export interface FetchedManifest {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly bytes: Buffer;
}

export class RepositorySession {
  readonly #client: RegistryClient;
  readonly ref: Reference;
  readonly #creds: Credentials | undefined;
  host: string;
  #actions = 'pull';

  constructor(client: RegistryClient, ref: Reference, creds?: Credentials) {
    this.#client = client;
    this.ref = ref;
    this.#creds = creds;
    this.host = registryHost(ref.domain);
  }

  /** Asks for push rights too (token scope `pull,push`). */
  forPush(): this {
    this.#actions = 'pull,push';
    return this;
  }

  get #scope(): string {
    return `repository:${this.ref.path}:${this.#actions}`;
  }

  /**
   * A request with auth: on 401 the challenge is noted and the request sent once more.
   * `extraScopes` widen the token (a cross-repository mount needs pull on the source).
   */
  async call(
    method: string,
    pathAndQuery: string,
    opts: {
      headers?: Record<string, string>;
      body?: Buffer | Readable;
      signal?: AbortSignal;
      extraScopes?: readonly string[];
    } = {},
  ): Promise<HttpResponse> {
    const scope = [this.#scope, ...(opts.extraScopes ?? [])].join(' ');
    const send = async () => {
      const auth = await this.#client.auth.header(this.host, scope, this.#creds, opts.signal);
      return this.#client.send(this.host, pathAndQuery, {
        method,
        headers: { ...(opts.headers ?? {}), ...(auth ? { Authorization: auth } : {}) },
        ...(opts.body ? { body: opts.body } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    };
    try {
      let res = await send();
      if (res.status === 401 && (!opts.body || Buffer.isBuffer(opts.body))) {
        res.body.resume();
        this.#client.auth.invalidate(this.host, scope, this.#creds);
        const c = this.#client.auth.noteChallenge(this.host, res.headers['www-authenticate']);
        if (c) res = await send();
      }
      return res;
    } catch (err) {
      // The token service refused (anonymous, or these credentials): the same answer as a
      // registry's own UNAUTHORIZED, so the same error (never a daemon 401, see fail()).
      if (err instanceof ForbiddenError && err.code === 'TOKEN_DENIED') throw this.#denied(err.message);
      throw err;
    }
  }

  /** Docker's "pull access denied" (404) or "push access denied" (403). */
  #denied(detail: string): Error {
    const push = this.#actions.includes('push');
    const message = `${push ? 'push' : 'pull'} access denied for ${this.#name}, repository does not exist or may require 'docker login'${detail ? `: ${detail}` : ''}`;
    return push
      ? new ForbiddenError('REGISTRY_PUSH_DENIED', message)
      : new NotFoundError('REGISTRY_PULL_DENIED', message);
  }

  /** The repository as Docker names it in messages. */
  get #name(): string {
    return this.ref.domain === 'docker.io'
      ? this.ref.path.replace(/^library\//, '')
      : `${this.ref.domain}/${this.ref.path}`;
  }

  /** Maps an error status to Docker's messages. */
  async fail(res: HttpResponse, whatTemplate: string): Promise<never> {
    const text = (await readBody(res.body, 64 << 10).catch(() => Buffer.alloc(0))).toString('utf8');
    let detail = '';
    try {
      const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      // Docker's form: the code in lower case with spaces ("denied: requested access …").
      detail = (j.errors ?? [])
        .map((e) => [e.code?.toLowerCase().replace(/_/g, ' '), e.message].filter(Boolean).join(': '))
        .join('; ');
    } catch {
      detail = text.slice(0, 200);
    }
    const what = whatTemplate.replace('{name}', this.#name);
    // A registry's UNAUTHORIZED or DENIED never becomes a 401 from the daemon: the docker CLI
    // takes a 401 as "ask for a password" and waits at a prompt. Docker answers a pull with
    // 404 "pull access denied …" (a push reports it in-band), and so does Berth.
    if (res.status === 401 || res.status === 403) throw this.#denied(detail);
    if (res.status === 404)
      throw new NotFoundError(
        'REGISTRY_NOT_FOUND',
        `${what} not found${detail ? `: ${detail.toLowerCase().replace(/_/g, ' ')}` : ''}`,
      );
    if (res.status === 429)
      throw new UnavailableError(
        'REGISTRY_RATE_LIMIT',
        `the registry ${this.host} is rate-limiting requests (429 Too Many Requests); try again later`,
      );
    throw new UnavailableError(
      'REGISTRY_ERROR',
      `the registry ${this.host} answered HTTP ${res.status} for ${what}${detail ? `: ${detail}` : ''}`,
    );
  }

  /** GETs a manifest or index by tag or digest and checks a digest reference against the bytes. */
  async manifest(tagOrDigest: string, signal?: AbortSignal): Promise<FetchedManifest> {
    // docker.io pulls try the configured mirrors first, then the Hub (as Docker's
    // registry-mirrors); the first that has the manifest serves the blobs too.
    const mirrors =
      this.ref.domain === 'docker.io' && this.#actions === 'pull' ? this.#client.mirrorHosts() : [];
    if (mirrors.length > 0 && this.host === registryHost(this.ref.domain)) {
      for (const m of mirrors) {
        this.host = m;
        try {
          return await this.#manifestFromHost(tagOrDigest, signal);
        } catch {
          // Not on this mirror (or it is down): the next one, then the Hub.
        }
      }
      this.host = registryHost(this.ref.domain);
    }
    return this.#manifestFromHost(tagOrDigest, signal);
  }

  async #manifestFromHost(tagOrDigest: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.call('GET', `/v2/${this.ref.path}/manifests/${tagOrDigest}`, {
      headers: { Accept: MANIFEST_ACCEPT },
      ...(signal ? { signal } : {}),
    });
    if (res.status !== 200)
      return this.fail(
        res,
        `manifest for {name}${tagOrDigest.startsWith('sha256:') ? '@' : ':'}${tagOrDigest}`,
      );
    const bytes = await readBody(res.body, 4 << 20);
    const digest = sha256Digest(bytes);
    if (tagOrDigest.startsWith('sha256:') && digest !== tagOrDigest) {
      throw new InvalidArgumentError(
        'MANIFEST_DIGEST_MISMATCH',
        `the registry sent a manifest whose digest ${digest} is not the requested ${tagOrDigest}`,
      );
    }
    let mediaType = String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    try {
      const m = JSON.parse(bytes.toString('utf8')) as {
        mediaType?: string;
        manifests?: unknown;
        layers?: unknown;
      };
      if (m.mediaType) mediaType = m.mediaType;
      else if (!mediaType || mediaType === 'application/json')
        mediaType = m.manifests ? MediaType.OciIndex : MediaType.OciManifest;
    } catch {
      throw new InvalidArgumentError(
        'MANIFEST_INVALID',
        `the manifest for ${tagOrDigest} from ${this.host} is not valid JSON`,
      );
    }
    return { mediaType, digest, bytes };
  }

  /** Every tag of the repository (following `Link` pagination). */
  async tags(signal?: AbortSignal): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = `/v2/${this.ref.path}/tags/list?n=1000`;
    for (let page = 0; next && page < 100; page++) {
      const res = await this.call('GET', next, signal ? { signal } : {});
      if (res.status !== 200) return this.fail(res, 'tags of {name}');
      const body = JSON.parse((await readBody(res.body, 8 << 20)).toString('utf8')) as {
        tags?: string[] | null;
      };
      out.push(...(body.tags ?? []));
      const link = /<([^>]+)>;\s*rel="next"/.exec(String(res.headers.link ?? ''));
      next = link
        ? link[1]!.startsWith('/')
          ? link[1]
          : new URL(link[1]!).pathname + new URL(link[1]!).search
        : undefined;
    }
    return out;
  }

  /** Opens a blob for reading; `offset` resumes an interrupted download where ranges work. */
  async blob(
    digest: Digest,
    opts: { offset?: number; signal?: AbortSignal } = {},
  ): Promise<{ body: Readable; size: number | undefined; offset: number }> {
    const headers: Record<string, string> = {};
    if (opts.offset) headers.Range = `bytes=${opts.offset}-`;
    const res = await this.call('GET', `/v2/${this.ref.path}/blobs/${digest}`, {
      headers,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (res.status !== 200 && res.status !== 206) return this.fail(res, `blob ${digest} of {name}`);
    const len = Number(res.headers['content-length']);
    return {
      body: res.body,
      size: Number.isFinite(len) ? len : undefined,
      offset: res.status === 206 ? (opts.offset ?? 0) : 0,
    };
  }
}

export { type PushBlobResult, PushSession } from './push-session.ts';
export { TransportError };
