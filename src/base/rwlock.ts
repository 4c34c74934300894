/**
 * Readers–writer lock: many ingests (imports, loads) may run at once as readers; garbage
 * collection takes it exclusively so it never deletes content that an ingest has written but
 * not yet referenced.
 */
export class RwLock {
  #readers = 0;
  #writer = false;
  #waiters: (() => void)[] = [];

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#writer) await this.#wait();
    this.#readers++;
    try {
      return await fn();
    } finally {
      this.#readers--;
      this.#wake();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#writer || this.#readers > 0) await this.#wait();
    this.#writer = true;
    try {
      return await fn();
    } finally {
      this.#writer = false;
      this.#wake();
    }
  }

  #wait(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const r of w) r();
  }
}
