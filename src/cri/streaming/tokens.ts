// Single-use tokens for the streaming URLs, as the kubelet's streaming server keeps them
// (k8s.io/kubelet/pkg/cri/streaming/request_cache.go): an Exec/Attach/PortForward call stores its
// request under a random token; the first connection to the URL takes it out; a token is good
// for one minute; at most 1000 wait at once. The request never travels in the URL.
import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { CriError } from '../errors.ts';

/** The kubelet's values. */
export const TOKEN_TTL_MS = 60_000;
export const MAX_IN_FLIGHT = 1000;

interface Entry<T> {
  readonly request: T;
  readonly expiresAt: number;
}

export class RequestTokens<T> {
  // A Map iterates in insertion order, and every entry lives the same TTL: the oldest is first.
  readonly #entries = new Map<string, Entry<T>>();
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(opts: { now?: () => number; ttlMs?: number } = {}) {
    this.#now = opts.now ?? Date.now;
    this.#ttlMs = opts.ttlMs ?? TOKEN_TTL_MS;
  }

  /** Stores the request; returns its token (URL-safe). */
  insert(request: T): string {
    this.#gc();
    if (this.#entries.size >= MAX_IN_FLIGHT)
      throw new CriError(
        status.RESOURCE_EXHAUSTED,
        `maximum number of in-flight streaming requests exceeded (${MAX_IN_FLIGHT}): connect to the URLs already handed out or wait a minute`,
      );
    // 128 random bits (the kubelet uses 48): a token is the only credential of the URL.
    for (;;) {
      const token = randomBytes(16).toString('base64url');
      if (this.#entries.has(token)) continue;
      this.#entries.set(token, { request, expiresAt: this.#now() + this.#ttlMs });
      return token;
    }
  }

  /** Takes the request out: a token works once, and not after its expiry. */
  consume(token: string): T | undefined {
    const e = this.#entries.get(token);
    if (!e) return undefined;
    this.#entries.delete(token);
    return this.#now() > e.expiresAt ? undefined : e.request;
  }

  get size(): number {
    this.#gc();
    return this.#entries.size;
  }

  #gc(): void {
    const now = this.#now();
    for (const [token, e] of this.#entries) {
      if (now <= e.expiresAt) return;
      this.#entries.delete(token);
    }
  }
}
