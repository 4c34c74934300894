// Detach keys on hijacked attach and exec streams: a key sequence typed on a terminal's stdin
// that ends the client's session and leaves the process running (Docker's ctrl-p ctrl-q). As in
// Docker, only streams whose process has a terminal are watched: without one, stdin is data and
// passes untouched.
import { type Duplex, PassThrough, type Readable } from 'node:stream';
import { InvalidArgumentError } from '../../errdefs/index.ts';

/** ctrl-p ctrl-q, Docker's default when no keys were given. */
export const DEFAULT_DETACH_KEYS: Buffer = Buffer.from([16, 17]);

/** `ctrl-@` is 0, `ctrl-a`..`ctrl-z` 1..26, then `ctrl-[`, `ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-_`. */
const CTRL_KEYS = `@${'abcdefghijklmnopqrstuvwxyz'}[\\]^_`;

/**
 * Docker's key syntax: comma-separated keys, each a single character (one byte), `ctrl-<c>` for
 * c in a-z @ [ \ ] ^ _, or `DEL`. Returns undefined for a bad spec, an empty buffer for "".
 */
export function detachKeyBytes(spec: string): Buffer | undefined {
  if (spec === '') return Buffer.alloc(0);
  const out: number[] = [];
  for (const key of spec.split(',')) {
    const raw = Buffer.from(key, 'utf8');
    if (raw.length === 1) out.push(raw[0]!);
    else if (key === 'DEL') out.push(127);
    else if (key.length === 6 && key.startsWith('ctrl-') && CTRL_KEYS.includes(key[5]!))
      out.push(CTRL_KEYS.indexOf(key[5]!));
    else return undefined;
  }
  return Buffer.from(out);
}

/**
 * The keys a request asked for, or Docker's default. `what` names the request's field in the
 * error, worded as Docker's: "detach" for attach's query parameter, "escape" for exec's field.
 */
export function parseDetachKeys(spec: string | null | undefined, what: 'detach' | 'escape'): Buffer {
  const keys = detachKeyBytes(spec ?? '');
  if (keys === undefined) {
    throw new InvalidArgumentError(
      'INVALID_DETACH_KEYS',
      `Invalid ${what} keys (${spec}) provided: use comma-separated keys, each a single character, ctrl-<a-z, @, [, \\, ], ^ or _>, or DEL (e.g. ctrl-p,ctrl-q)`,
    );
  }
  return keys.length > 0 ? keys : DEFAULT_DETACH_KEYS;
}

/**
 * Finds a key sequence in a byte stream that arrives in chunks. Bytes that could start the
 * sequence are held back until it is complete (then they are swallowed) or broken (then they
 * are passed on), so the process never sees the sequence, and sees every other byte in order.
 */
export class DetachKeyMatcher {
  readonly #keys: Buffer;
  #matched = 0;
  #detached = false;

  constructor(keys: Buffer) {
    this.#keys = keys.length > 0 ? keys : DEFAULT_DETACH_KEYS;
  }

  get detached(): boolean {
    return this.#detached;
  }

  /** The bytes to pass on from this chunk; after the sequence completed, nothing more. */
  push(chunk: Buffer): Buffer {
    if (this.#detached) return Buffer.alloc(0);
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.#keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.#keys.length) {
          this.#detached = true;
          break;
        }
        continue;
      }
      // A broken sequence: what was held back is ordinary input after all.
      for (let i = 0; i < this.#matched; i++) out.push(this.#keys[i]!);
      this.#matched = 0;
      if (byte === this.#keys[0]) {
        this.#matched = 1;
        if (this.#keys.length === 1) {
          this.#detached = true;
          break;
        }
      } else out.push(byte);
    }
    return Buffer.from(out);
  }
}

/**
 * The client's stdin with the detach keys filtered out. When they are typed, `onDetach` runs
 * and the returned stream passes nothing more and does not end by itself: where an end would
 * close the process's stdin (an exec's terminal), detaching must leave it open; the caller
 * ends it where that is safe.
 */
export function watchDetachKeys(input: Readable, keys: Buffer, onDetach: () => void): PassThrough {
  const matcher = new DetachKeyMatcher(keys);
  const out = new PassThrough();
  input.on('data', (chunk: Buffer) => {
    if (matcher.detached) return;
    const pass = matcher.push(chunk);
    if (pass.length > 0) out.write(pass);
    if (matcher.detached) onDetach();
  });
  input.on('end', () => {
    if (!matcher.detached) out.end();
  });
  input.on('error', () => {
    if (!matcher.detached) out.end();
  });
  // A hijacked socket can come paused (the server pauses it after reading a body that came
  // in later packets than the headers), and a 'data' listener alone does not resume it.
  input.resume();
  return out;
}

/**
 * Ends a hijacked stream. After a detach the connection is closed both ways, as Docker does: a
 * client still writing learns at once that the session is over instead of waiting for a reply.
 */
export function endHijacked(conn: Duplex, detached: boolean): void {
  if (!detached) {
    conn.end();
    return;
  }
  conn.end(() => conn.destroy());
  // A client that does not read could hold 'finish' back forever.
  setTimeout(() => conn.destroy(), 2000).unref();
}
