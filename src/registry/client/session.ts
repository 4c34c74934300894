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

export interface RegistryClientOptions {
  /** Hosts (`host:port`) or CIDRs where plain HTTP is allowed. */
  readonly insecureRegistries?: readonly string[];
  /** Mirrors tried first for docker.io (`https://mirror.example`). */
  readonly mirrors?: readonly string[];
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
  readonly #opts: RegistryClientOptions;
  readonly auth = new Authenticator();
  /** The scheme that worked per host, so insecure registries are probed once. */
  readonly #scheme = new Map<string, 'https:' | 'http:'>();

  constructor(opts: RegistryClientOptions = {}) {
    this.#opts = opts;
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
        const res = await request({ ...init, url: new URL(`${scheme}//${host}${pathAndQuery}`) });
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
  readonly host: string;
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

  /** A request with auth: on 401 the challenge is noted and the request sent once more. */
  async call(
    method: string,
    pathAndQuery: string,
    opts: { headers?: Record<string, string>; body?: Buffer | Readable; signal?: AbortSignal } = {},
  ): Promise<HttpResponse> {
    const send = async () => {
      const auth = await this.#client.auth.header(this.host, this.#scope, this.#creds, opts.signal);
      return this.#client.send(this.host, pathAndQuery, {
        method,
        headers: { ...(opts.headers ?? {}), ...(auth ? { Authorization: auth } : {}) },
        ...(opts.body ? { body: opts.body } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    };
    let res = await send();
    if (res.status === 401 && (!opts.body || Buffer.isBuffer(opts.body))) {
      res.body.resume();
      this.#client.auth.invalidate(this.host, this.#scope, this.#creds);
      const c = this.#client.auth.noteChallenge(this.host, res.headers['www-authenticate']);
      if (c) res = await send();
    }
    return res;
  }

  /** Maps an error status to Docker's messages. */
  async fail(res: HttpResponse, what: string): Promise<never> {
    const text = (await readBody(res.body, 64 << 10).catch(() => Buffer.alloc(0))).toString('utf8');
    let detail = '';
    try {
      const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      detail = (j.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch {
      detail = text.slice(0, 200);
    }
    const name =
      this.ref.domain === 'docker.io'
        ? this.ref.path.replace(/^library\//, '')
        : `${this.ref.domain}/${this.ref.path}`;
    if (res.status === 401) {
      throw new UnauthorizedError(
        'REGISTRY_UNAUTHORIZED',
        `${this.#actions.includes('push') ? 'push' : 'pull'} access denied for ${name}, repository does not exist or may require 'docker login'${detail ? `: ${detail}` : ''}`,
      );
    }
    if (res.status === 403)
      throw new ForbiddenError(
        'REGISTRY_FORBIDDEN',
        `access to ${name} is forbidden${detail ? `: ${detail}` : ''}`,
      );
    if (res.status === 404)
      throw new NotFoundError(
        'REGISTRY_NOT_FOUND',
        `${what.replace('{name}', name)} not found${detail ? `: ${detail.toLowerCase().replace(/_/g, ' ')}` : ''}`,
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

export { TransportError };
