// Step timing for one request (`berthd --trace` or BERTH_TRACE=1): which part of a `docker run`
// costs what. Each API request opens a record; `span()` calls made while it runs (through any
// number of awaits: AsyncLocalStorage follows them) add their step and duration to it. Work with
// no request around it (the exit of a container, its --rm removal) gets a record of its own per
// outermost span. Off by default; then `span()` is a boolean test and a direct call, so the
// hooks can stay in the hot path for good.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface TraceSpan {
  readonly name: string;
  /** Milliseconds from the start of its record. */
  readonly at: number;
  readonly ms: number;
  /** How many spans enclose it (0: called directly by the request or task). */
  readonly depth: number;
}

export interface TraceRecord {
  /** Increasing; `since` in the read-out skips records up to that id. */
  readonly id: number;
  /** "POST /containers/create", or the name of the outermost span of background work. */
  readonly label: string;
  /** Wall-clock start, epoch milliseconds. */
  readonly startedAt: number;
  ms: number;
  readonly spans: TraceSpan[];
}

interface Context {
  readonly rec: TraceRecord;
  readonly t0: number;
  readonly depth: number;
}

/** Records kept for the read-out: enough for a few dozen `docker run`s, bounded memory. */
const KEEP = 2000;

let enabled = false;
let nextId = 1;
const kept: TraceRecord[] = [];
const als = new AsyncLocalStorage<Context>();

export function setTraceEnabled(on: boolean): void {
  enabled = on;
}

export function traceEnabled(): boolean {
  return enabled;
}

function keep(rec: TraceRecord): void {
  kept.push(rec);
  if (kept.length > KEEP) kept.splice(0, kept.length - KEEP);
}

function open(label: string): Context {
  const rec: TraceRecord = { id: nextId++, label, startedAt: Date.now(), ms: 0, spans: [] };
  keep(rec);
  return { rec, t0: performance.now(), depth: -1 };
}

/**
 * Runs `fn` as one traced request: spans inside it land in its record. Returns the function that
 * closes the record (call it when the answer is sent, which may be after `fn` returned).
 */
export function traceRequest<T>(label: string, fn: () => T): { result: T; end: () => void } {
  if (!enabled) return { result: fn(), end: () => {} };
  const ctx = open(label);
  const end = () => {
    if (ctx.rec.ms === 0) ctx.rec.ms = performance.now() - ctx.t0;
  };
  return { result: als.run(ctx, fn), end };
}

/** Times `fn` as the step `name` of the current request (or as a background record of its own). */
export function span<T>(name: string, fn: () => T): T {
  if (!enabled) return fn();
  const outer = als.getStore();
  const parent = outer ?? open(name);
  const ctx: Context = { rec: parent.rec, t0: parent.t0, depth: parent.depth + 1 };
  const start = performance.now();
  const done = () => {
    const end = performance.now();
    ctx.rec.spans.push({ name, at: start - ctx.t0, ms: end - start, depth: ctx.depth });
    if (!outer) ctx.rec.ms = end - ctx.t0;
  };
  let out: T;
  try {
    out = als.run(ctx, fn);
  } catch (err) {
    done();
    throw err;
  }
  if (out instanceof Promise) {
    out.then(done, done);
  } else {
    done();
  }
  return out;
}

/** The kept records after `since` (an id), oldest first. */
export function traceRecords(since = 0): TraceRecord[] {
  return kept.filter((r) => r.id > since);
}

export function clearTrace(): void {
  kept.length = 0;
}

/**
 * Wraps the named methods of `obj` in spans `<prefix>.<method>` — done once at wiring, and only
 * when tracing is on, so the services carry no trace code and pay nothing when it is off.
 */
export function traceMethods<O extends object>(
  obj: O,
  prefix: string,
  names: readonly (keyof O & string)[],
): O {
  if (!enabled) return obj;
  const target = obj as Record<string, unknown>;
  for (const name of names) {
    const fn = target[name];
    if (typeof fn !== 'function') continue;
    const label = `${prefix}.${name}`;
    target[name] = function (this: unknown, ...args: unknown[]) {
      return span(label, () => (fn as (...a: unknown[]) => unknown).apply(this, args));
    };
  }
  return obj;
}
