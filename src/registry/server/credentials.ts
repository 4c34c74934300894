// htpasswd users and the password check every authenticated request makes. Basic auth sends the
// password on each request, so a verified pair is remembered (keyed by an HMAC under a key made
// at start-up: the password itself is never kept) and later checks cost one HMAC. Cache misses
// go through the AuthLimiter (429 with Retry-After when over) and then bcrypt on a worker
// thread (bcrypt-pool.ts), never on the event loop.
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BcryptPool, PoolBusyError } from './bcrypt-pool.ts';
import { AuthLimiter } from './limiter.ts';

export type CheckResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds?: number };

export interface HtpasswdOptions {
  readonly pool?: BcryptPool;
  readonly limiter?: AuthLimiter;
  /** How long a verified user:password pair is trusted without bcrypt. */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

export class Htpasswd {
  readonly #users = new Map<string, string>();
  readonly #verified = new Map<string, number>();
  readonly #key = randomBytes(32);
  readonly #o: HtpasswdOptions;
  #pool: BcryptPool | undefined;
  #limiter: AuthLimiter | undefined;

  constructor(text: string, o: HtpasswdOptions = {}) {
    this.#o = o;
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

  static load(file: string, o: HtpasswdOptions = {}): Htpasswd {
    return new Htpasswd(readFileSync(file, 'utf8'), o);
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  // Made on first use so a server without htpasswd users never starts worker threads.
  get #bcrypt(): BcryptPool {
    this.#pool ??= this.#o.pool ?? new BcryptPool();
    return this.#pool;
  }

  get #limits(): AuthLimiter {
    this.#limiter ??= this.#o.limiter ?? new AuthLimiter(this.#o.now ? { now: this.#o.now } : {});
    return this.#limiter;
  }

  /** Checks `user`'s password for a request from `address` (the peer's IP). */
  async check(user: string, password: string, address: string): Promise<CheckResult> {
    const hash = this.#users.get(user);
    const cacheKey = hash
      ? createHmac('sha256', this.#key).update(`${user}\0${hash}\0${password}`).digest('base64')
      : '';
    if (hash) {
      const until = this.#verified.get(cacheKey);
      if (until !== undefined && until > this.#now()) return { ok: true };
      if (until !== undefined) this.#verified.delete(cacheKey);
    }
    const admission = this.#limits.admit(user, address, hash !== undefined);
    if (!admission.ok) return { ok: false, retryAfterSeconds: Math.ceil(admission.retryAfterMs / 1000) };
    if (!hash) {
      admission.done('failure');
      return { ok: false };
    }
    let ok: boolean;
    try {
      ok = await this.#bcrypt.compare(password, hash, { urgent: admission.trusted, client: address });
    } catch (err) {
      // Saturated or a lost worker: not the user's fault, so no failure is counted.
      admission.done('cancelled');
      if (err instanceof PoolBusyError) return { ok: false, retryAfterSeconds: 1 };
      throw err;
    }
    admission.done(ok ? 'success' : 'failure');
    if (!ok) return { ok: false };
    if (this.#verified.size >= 10_000) {
      const now = this.#now();
      for (const [k, t] of this.#verified) if (t <= now) this.#verified.delete(k);
      if (this.#verified.size >= 10_000) this.#verified.clear();
    }
    this.#verified.set(cacheKey, this.#now() + (this.#o.cacheMs ?? 5 * 60_000));
    return { ok: true };
  }

  async close(): Promise<void> {
    await this.#pool?.close();
  }
}
