// Shared helpers for the logs tests: k8s-file lines, bounded waits, collecting records.
import type { LogRecord } from '../../../src/logs/index.ts';

export const T0 = '2026-11-22T07:23:30.449451672+00:00';

/** A k8s-file line at `2026-11-22T07:23:<sec>.<frac>+00:00` (frac: 9 digits). */
export function ts(sec: number, frac = '000000000'): string {
  return `2026-11-22T07:23:${String(sec).padStart(2, '0')}.${frac}+00:00`;
}

export function line(time: string, stream: 'stdout' | 'stderr', tag: 'F' | 'P', content: string): string {
  return `${time} ${stream} ${tag} ${content}\n`;
}

/** Unix seconds of ts(sec, frac). */
export function unix(sec: number, frac = '000000000'): number {
  return Date.parse(`2026-11-22T07:23:${String(sec).padStart(2, '0')}Z`) / 1000 + Number(`0.${frac}`);
}

/** Records as comparable plain values. */
export function plain(records: readonly LogRecord[]): { stream: string; time: string; data: string }[] {
  return records.map((r) => ({ stream: r.stream, time: r.time, data: r.data.toString() }));
}

export function texts(records: readonly LogRecord[]): string[] {
  return records.map((r) => `${r.stream}:${r.data.toString()}`);
}

export async function collect(it: AsyncIterable<LogRecord>): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

/** Rejects after `ms` (and never keeps the process alive). */
export function deadline(ms: number, what: string): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  promise.catch(() => {});
  return { promise, cancel: () => clearTimeout(timer) };
}

/** The next `n` records from a running iterator, failing after `ms`. */
export async function take(it: AsyncIterator<LogRecord>, n: number, ms = 5000): Promise<LogRecord[]> {
  const d = deadline(ms, `${n} records`);
  const out: LogRecord[] = [];
  try {
    while (out.length < n) {
      const r = await Promise.race([it.next(), d.promise]);
      if (r.done) break;
      out.push(r.value);
    }
  } finally {
    d.cancel();
  }
  return out;
}

/** Resolves when the iterator ends; fails after `ms`. Returns the records it still produced. */
export async function rest(it: AsyncIterator<LogRecord>, ms = 5000): Promise<LogRecord[]> {
  const d = deadline(ms, 'the end of the stream');
  const out: LogRecord[] = [];
  try {
    for (;;) {
      const r = await Promise.race([it.next(), d.promise]);
      if (r.done) return out;
      out.push(r.value);
    }
  } finally {
    d.cancel();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
