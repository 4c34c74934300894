// Limits password guessing against the registry's htpasswd users. Every password check that
// needs bcrypt (a cache miss) takes a token from the caller's address bucket and, unless that
// address has logged in as that user before, from the user's bucket; a success gives both back
// and clears the failure count. Consecutive failures stretch the refill interval (exponential
// back-off, capped), so a guesser slows to one try per minute while the cap keeps any lock-out
// bounded. Tokens are taken when a check starts, not when it fails, so a burst of concurrent
// guesses is cut at the bucket's size instead of all reaching bcrypt before the first failure.
//
// A real user is not locked out by an attacker elsewhere: credentials already verified skip
// the limiter (see credentials.ts), an address that logged in as the user before skips the
// user bucket, and the user bucket refills within `user.maxIntervalMs` at worst.

export interface BucketPolicy {
  /** Checks allowed in a burst. */
  readonly capacity: number;
  /** One token back per this many ms while there are no failures beyond the burst. */
  readonly intervalMs: number;
  /** The longest refill interval that back-off reaches. */
  readonly maxIntervalMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
  failures: number;
}

/** Token buckets by key, bounded in number (oldest touched dropped first). */
export class BucketMap {
  readonly #policy: BucketPolicy;
  readonly #max: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(policy: BucketPolicy, maxKeys = 10_000) {
    this.#policy = policy;
    this.#max = maxKeys;
  }

  #interval(b: Bucket): number {
    const { capacity, intervalMs, maxIntervalMs } = this.#policy;
    const over = Math.max(0, b.failures - capacity);
    return Math.min(maxIntervalMs, intervalMs * 2 ** Math.min(over, 30));
  }

  #get(key: string, now: number): Bucket {
    let b = this.#buckets.get(key);
    if (b) {
      const interval = this.#interval(b);
      b.tokens = Math.min(this.#policy.capacity, b.tokens + (now - b.at) / interval);
      b.at = now;
      this.#buckets.delete(key); // re-inserted below: Map order is least recently used first
    } else {
      b = { tokens: this.#policy.capacity, at: now, failures: 0 };
      if (this.#buckets.size >= this.#max) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    }
    this.#buckets.set(key, b);
    return b;
  }

  /** Takes a token: 0 when granted, else the ms until one is back. */
  take(key: string, now: number): number {
    const b = this.#get(key, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    // (Rounded first: 0.999 tokens of a 1000 ms interval is 1 ms, not 1.0000000000000009.)
    return Math.ceil(Math.round((1 - b.tokens) * this.#interval(b) * 1000) / 1000);
  }

  /** Gives back a token taken for a check that succeeded (or was never made). */
  refund(key: string, now: number, success: boolean): void {
    const b = this.#get(key, now);
    b.tokens = Math.min(this.#policy.capacity, b.tokens + 1);
    if (success) b.failures = 0;
  }

  fail(key: string, now: number): void {
    this.#get(key, now).failures += 1;
  }

  get size(): number {
    return this.#buckets.size;
  }
}

export interface LimiterOptions {
  readonly address?: BucketPolicy;
  readonly user?: BucketPolicy;
  /** How long an address stays trusted for a user after a successful login. */
  readonly trustMs?: number;
  readonly now?: () => number;
}

export type Outcome = 'success' | 'failure' | 'cancelled';

export type Admission =
  | {
      readonly ok: true;
      /** The address logged in as this user before (its checks may go first). */
      readonly trusted: boolean;
      readonly done: (outcome: Outcome) => void;
    }
  | { readonly ok: false; readonly retryAfterMs: number };

export class AuthLimiter {
  readonly #address: BucketMap;
  readonly #user: BucketMap;
  readonly #trusted = new Map<string, number>();
  readonly #trustMs: number;
  readonly #now: () => number;

  constructor(o: LimiterOptions = {}) {
    this.#address = new BucketMap(o.address ?? { capacity: 10, intervalMs: 1000, maxIntervalMs: 60_000 });
    this.#user = new BucketMap(o.user ?? { capacity: 20, intervalMs: 1000, maxIntervalMs: 30_000 });
    this.#trustMs = o.trustMs ?? 24 * 3600_000;
    this.#now = o.now ?? Date.now;
  }

  #isTrusted(pair: string, now: number): boolean {
    const until = this.#trusted.get(pair);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#trusted.delete(pair);
    return false;
  }

  /**
   * Asks to run one password check for `user` from `address`; `knownUser` false means no such
   * user (the check costs nothing, only the address pays). Call `done` with the outcome.
   */
  admit(user: string, address: string, knownUser: boolean): Admission {
    const now = this.#now();
    const addrKey = address;
    const userKey = knownUser ? user : undefined;
    const pair = `${user}\0${address}`;
    const waitAddr = this.#address.take(addrKey, now);
    if (waitAddr > 0) return { ok: false, retryAfterMs: waitAddr };
    const chargeUser = userKey !== undefined && !this.#isTrusted(pair, now);
    if (chargeUser) {
      const waitUser = this.#user.take(userKey, now);
      if (waitUser > 0) {
        this.#address.refund(addrKey, now, false);
        return { ok: false, retryAfterMs: waitUser };
      }
    }
    let settled = false;
    return {
      ok: true,
      trusted: !chargeUser && userKey !== undefined,
      done: (outcome) => {
        if (settled) return;
        settled = true;
        const t = this.#now();
        if (outcome === 'cancelled') {
          // The check never ran (server saturated): give the tokens back, count nothing.
          this.#address.refund(addrKey, t, false);
          if (chargeUser) this.#user.refund(userKey, t, false);
          return;
        }
        if (outcome === 'success') {
          this.#address.refund(addrKey, t, true);
          if (chargeUser) this.#user.refund(userKey, t, true);
          if (this.#trusted.size >= 10_000) {
            const oldest = this.#trusted.keys().next().value;
            if (oldest !== undefined) this.#trusted.delete(oldest);
          }
          this.#trusted.delete(pair);
          this.#trusted.set(pair, t + this.#trustMs);
          return;
        }
        this.#address.fail(addrKey, t);
        if (chargeUser) this.#user.fail(userKey, t);
      },
    };
  }
}
