// The upload side of a repository session: blob existence checks, cross-repository mounts
// (with pull on the source in the token scope, and a plain upload when refused), streamed blob
// uploads and manifest PUTs.
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { InvalidArgumentError, UnavailableError } from '../../errdefs/index.ts';
import { type Digest, sha256Digest } from '../../oci/digest.ts';
import type { Reference } from '../../oci/reference.ts';
import { readBody } from './http.ts';
import type { RepositorySession } from './session.ts';

/** A Location header as a path on the same registry (registries may answer absolute URLs). */
function locationPath(loc: string | undefined, host: string): string {
  if (!loc)
    throw new UnavailableError('REGISTRY_ERROR', `the registry ${host} started an upload without a Location`);
  if (loc.startsWith('/')) return loc;
  const u = new URL(loc);
  return `${u.pathname}${u.search}`;
}

export interface PushBlobResult {
  readonly digest: Digest;
  readonly size: number;
}

/** Upload side of a repository session (kept apart from pulls for readability). */
export class PushSession {
  readonly #s: RepositorySession;

  constructor(s: RepositorySession) {
    this.#s = s.forPush();
  }

  get ref(): Reference {
    return this.#s.ref;
  }

  async hasBlob(digest: Digest, signal?: AbortSignal): Promise<boolean> {
    const res = await this.#s.call(
      'HEAD',
      `/v2/${this.#s.ref.path}/blobs/${digest}`,
      signal ? { signal } : {},
    );
    res.body.resume();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.#s.fail(res, `blob ${digest} of {name}`);
  }

  /** Starts an upload session; resolves with its location. */
  async #start(signal?: AbortSignal): Promise<string> {
    const res = await this.#s.call('POST', `/v2/${this.#s.ref.path}/blobs/uploads/`, {
      headers: { 'Content-Length': '0' },
      body: Buffer.alloc(0),
      ...(signal ? { signal } : {}),
    });
    res.body.resume();
    if (res.status !== 202) return this.#s.fail(res, 'upload of {name}');
    return locationPath(res.headers.location, this.#s.host);
  }

  /**
   * Links a blob from another repository of the same registry (201). False when the registry
   * would not: a 202 (it started an upload instead, which is cancelled here since the caller
   * uploads with its own session) or any refusal (no pull right on `from`, unknown blob, a
   * registry without mounts); the caller then uploads the blob.
   */
  async mount(digest: Digest, from: string, signal?: AbortSignal): Promise<boolean> {
    const q = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const res = await this.#s.call('POST', `/v2/${this.#s.ref.path}/blobs/uploads/${q}`, {
      headers: { 'Content-Length': '0' },
      body: Buffer.alloc(0),
      extraScopes: [`repository:${from}:pull`],
      ...(signal ? { signal } : {}),
    });
    res.body.resume();
    if (res.status === 201) return true;
    if (res.status === 202 && res.headers.location) {
      const loc = locationPath(res.headers.location, this.#s.host);
      const del = await this.#s
        .call('DELETE', loc, { ...(signal ? { signal } : {}), extraScopes: [`repository:${from}:pull`] })
        .catch(() => undefined);
      del?.body.resume();
    }
    return false;
  }

  /**
   * Streams a blob up (POST, one PATCH with the whole body, PUT with the digest learnt while
   * streaming). `expected` is checked when known.
   */
  async upload(
    body: Readable,
    opts: { expected?: Digest; signal?: AbortSignal } = {},
  ): Promise<PushBlobResult> {
    const location = await this.#start(opts.signal);
    const hash = createHash('sha256');
    let size = 0;
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _e, cb) {
          hash.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      }),
    );
    body.on('error', (err) => counted.destroy(err));
    const patch = await this.#s.call('PATCH', location, {
      headers: { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' },
      body: counted,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    patch.body.resume();
    if (patch.status !== 202 && patch.status !== 204) return this.#s.fail(patch, 'blob upload to {name}');
    const digest = `sha256:${hash.digest('hex')}` as Digest;
    if (opts.expected && opts.expected !== digest) {
      throw new InvalidArgumentError(
        'BLOB_DIGEST_MISMATCH',
        `uploaded content has digest ${digest}, expected ${opts.expected}`,
      );
    }
    const next = locationPath(patch.headers.location ?? location, this.#s.host);
    const sep = next.includes('?') ? '&' : '?';
    const put = await this.#s.call('PUT', `${next}${sep}digest=${encodeURIComponent(digest)}`, {
      headers: { 'Content-Length': '0' },
      body: Buffer.alloc(0),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    put.body.resume();
    if (put.status !== 201 && put.status !== 204) return this.#s.fail(put, `blob ${digest} of {name}`);
    return { digest, size };
  }

  /** PUTs a manifest under a tag (or digest); returns the digest the registry stored. */
  async putManifest(
    tagOrDigest: string,
    mediaType: string,
    bytes: Buffer,
    signal?: AbortSignal,
  ): Promise<Digest> {
    const res = await this.#s.call('PUT', `/v2/${this.#s.ref.path}/manifests/${tagOrDigest}`, {
      headers: { 'Content-Type': mediaType, 'Content-Length': String(bytes.length) },
      body: bytes,
      ...(signal ? { signal } : {}),
    });
    const text = (await readBody(res.body, 64 << 10)).toString();
    if (res.status !== 201 && res.status !== 200) {
      return this.#s.fail(
        { ...res, body: Readable.from([Buffer.from(text)]) },
        `manifest ${tagOrDigest} of {name}`,
      );
    }
    return sha256Digest(bytes);
  }
}
