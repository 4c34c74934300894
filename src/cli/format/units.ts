import { humanDuration } from '../../base/duration.ts';
// Docker's human-readable units: the github.com/docker/go-units functions the docker CLI prints
// sizes and ages with, digit for digit (Go's `%.Ng` included, e.g. 999999 bytes → "1e+03kB").
import { formatFloat } from './gofmt.ts';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's `%.{precision}g`. */
export function goG(value: number, precision: number): string {
  return formatFloat(value, 'g', precision);
}

function sizeAndUnit(size: number, base: number, units: readonly string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]!];
}

/**
 * go-units HumanSizeWithPrecision: decimal units ("4.26MB", "1.2kB", "100B", "0B"). The
 * precision defaults to 3 significant digits, which is what docker's tables use for image and
 * container sizes; go-units' own HumanSize is precision 4 (`humanSize(n, 4)`).
 */
export function humanSize(bytes: number, precision = 3): string {
  const [size, unit] = sizeAndUnit(bytes, 1000, DECIMAL_UNITS);
  return goG(size, precision) + unit;
}

/** go-units BytesSize: binary units, 4 significant digits ("1.5GiB", "44KiB"). */
export function bytesSize(bytes: number): string {
  const [size, unit] = sizeAndUnit(bytes, 1024, BINARY_UNITS);
  return goG(size, 4) + unit;
}

/** go-units HumanDuration for a duration in milliseconds ("Less than a second" … "2 years"). */
export { humanDuration };

/**
 * docker's "CREATED" column: HumanDuration(now - t) + " ago". `date` is a Date, epoch
 * milliseconds, or a date string (RFC 3339 as the API returns).
 */
export function timeAgo(date: Date | number | string, now: Date | number = Date.now()): string {
  const t = typeof date === 'number' ? date : typeof date === 'string' ? Date.parse(date) : date.getTime();
  const n = typeof now === 'number' ? now : now.getTime();
  return `${humanDuration(n - t)} ago`;
}

const RAM_MULT: Record<string, number> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * go-units RAMInBytes: "512m", "1.5g", "64MiB", "100" → bytes (binary multipliers, any case).
 * Returns undefined for anything else ("1x", "-1", "").
 */
export function ramInBytes(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(s.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * RAM_MULT[(m[2] ?? '').toLowerCase()]!);
}
