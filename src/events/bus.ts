// The event bus behind GET /events: services publish typed events; subscribers get live ones,
// and a bounded ring of recent events answers `since` queries.

export interface BerthEvent {
  readonly type: 'container' | 'image' | 'network' | 'volume' | 'daemon';
  readonly action: string;
  readonly id: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** nanoseconds since the epoch */
  readonly timeNano: bigint;
}

type Subscriber = (e: BerthEvent) => void;

export class EventBus {
  readonly #recent: BerthEvent[] = [];
  readonly #subs = new Set<Subscriber>();
  readonly #capacity: number;

  constructor(capacity = 1024) {
    this.#capacity = capacity;
  }

  publish(
    type: BerthEvent['type'],
    action: string,
    id: string,
    attributes: Record<string, string> = {},
  ): void {
    const now = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    const e: BerthEvent = { type, action, id, attributes, timeNano: now };
    this.#recent.push(e);
    if (this.#recent.length > this.#capacity) this.#recent.shift();
    for (const s of this.#subs) s(e);
  }

  /** Events already published at or after `sinceNano`. */
  since(sinceNano: bigint): BerthEvent[] {
    return this.#recent.filter((e) => e.timeNano >= sinceNano);
  }

  subscribe(fn: Subscriber): () => void {
    this.#subs.add(fn);
    return () => this.#subs.delete(fn);
  }
}
