// bcrypt checks on worker threads, so password checks never stall the registry's event loop
// (a synchronous bcrypt of cost 10–12 blocks it for 70–300 ms per request). A bounded queue:
// when it is full the check is refused as busy and the caller answers 429, rather than letting
// a flood of guesses queue without end.
import os from 'node:os';
import { Worker } from 'node:worker_threads';

/** The worker script beside this module: the .ts source under tsx, the bundle in dist/. */
function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts')
    ? new URL('./bcrypt-worker.ts', here)
    : new URL('./berth-registry-bcrypt.mjs', here);
}

interface Pending {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
  readonly resolve: (ok: boolean) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Pending | undefined;
}

export class PoolBusyError extends Error {}

export interface BcryptPoolOptions {
  readonly size?: number;
  readonly maxQueue?: number;
  readonly workerUrl?: URL;
}

export class BcryptPool {
  readonly #size: number;
  readonly #maxQueue: number;
  readonly #url: URL;
  readonly #slots: Slot[] = [];
  /** Checks for (user, address) pairs that logged in before go first. */
  readonly #urgent: Pending[] = [];
  /**
   * The others queue per client (address) and are served round-robin, so one address's burst
   * of guesses does not delay everyone else's login by its whole length.
   */
  readonly #queues = new Map<string, Pending[]>();
  #queued = 0;
  #nextId = 1;
  #closed = false;

  constructor(o: BcryptPoolOptions = {}) {
    this.#size = Math.max(1, o.size ?? Math.min(2, os.availableParallelism()));
    this.#maxQueue = o.maxQueue ?? 64;
    this.#url = o.workerUrl ?? defaultWorkerUrl();
  }

  /**
   * Whether `password` matches the bcrypt `hash`; `client` names who asks (its address) for fair
   * queueing. Rejects with PoolBusyError when saturated.
   */
  compare(password: string, hash: string, o: { urgent?: boolean; client?: string } = {}): Promise<boolean> {
    if (this.#closed) return Promise.reject(new Error('the password checker is shut down'));
    if (!o.urgent && this.#queued >= this.#maxQueue)
      return Promise.reject(new PoolBusyError('too many password checks waiting'));
    return new Promise<boolean>((resolve, reject) => {
      const job = { id: this.#nextId++, password, hash, resolve, reject };
      if (o.urgent) this.#urgent.push(job);
      else {
        const key = o.client ?? '';
        const q = this.#queues.get(key);
        if (q) q.push(job);
        else this.#queues.set(key, [job]);
        this.#queued++;
      }
      this.#pump();
    });
  }

  /** The next job: urgent ones, else the head of the client queue whose turn it is. */
  #next(): Pending | undefined {
    const urgent = this.#urgent.shift();
    if (urgent) return urgent;
    const first = this.#queues.entries().next().value;
    if (!first) return undefined;
    const [key, q] = first;
    const job = q.shift()!;
    this.#queued--;
    // Round-robin: this client goes to the back (Map order), or away when it has no more.
    this.#queues.delete(key);
    if (q.length > 0) this.#queues.set(key, q);
    return job;
  }

  #spawn(): Slot {
    // From source (tests under tsx) a worker thread does not get the parent's tsx loader, so a
    // stub registers it before importing the .ts entry. The bundle (dist/) needs none of this.
    const worker = this.#url.pathname.endsWith('.ts')
      ? new Worker(
          `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(this.#url.href)}); })`,
          { eval: true },
        )
      : new Worker(this.#url);
    // Idle workers must not keep `berth registry gc` or a stopping server alive.
    worker.unref();
    const slot: Slot = { worker, job: undefined };
    worker.on('message', (m: { id: number; ok: boolean }) => {
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      slot.job = undefined;
      job.resolve(m.ok);
      this.#pump();
    });
    const lost = (err: Error) => {
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      slot.job?.reject(err);
      slot.job = undefined;
      if (!this.#closed) this.#pump();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the password check worker exited (${code})`)));
    this.#slots.push(slot);
    return slot;
  }

  #pump(): void {
    for (;;) {
      if (this.#urgent.length === 0 && this.#queued === 0) return;
      let slot = this.#slots.find((s) => !s.job);
      if (!slot && this.#slots.length < this.#size) slot = this.#spawn();
      if (!slot) return;
      const job = this.#next()!;
      slot.job = job;
      slot.worker.postMessage({ id: job.id, password: job.password, hash: job.hash });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const p of [...this.#urgent, ...[...this.#queues.values()].flat()])
      p.reject(new Error('the password checker is shut down'));
    this.#urgent.length = 0;
    this.#queues.clear();
    this.#queued = 0;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
