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
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/**
 * docker's "CREATED" column: HumanDuration(now - t) + " ago". `date` is a Date, epoch
 * milliseconds, or a date string (RFC 3339 as the API returns).
 */
export function timeAgo(date: Date | number | string, now: Date | number = Date.now()): string {
  const t = typeof date === 'number' ? date : typeof date === 'string' ? Date.parse(date) : date.getTime();
  const n = typeof now === 'number' ? now : now.getTime();
  return `${humanDuration(n - t)} ago`;
}
