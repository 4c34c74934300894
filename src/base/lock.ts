/**
 * A tiny async mutex keyed by string: serialises operations on one key (an image reference,
 * a layer chain ID) without holding anything across unrelated keys.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Whether an operation on `key` runs or waits now. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = prev.then(() => mine);
    this.#tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
