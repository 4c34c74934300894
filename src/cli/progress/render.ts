// Pure rendering of one JSON-lines message, following moby's pkg/jsonmessage as the docker CLI
// 28.2 vendors it: the progress text (bar only wider than 110 columns, time left only wider
// than 50), sizes in go-units HumanSize (4 significant digits, decimal units: "1.057MB"), and the
// deprecated `progress` string used only where docker still uses it.
import { humanSize } from '../format/index.ts';

/** progressDetail as the daemon sends it (JSONProgress). */
export interface ProgressDetail {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

/** The fields of a JSONMessage the renderer reads. */
export interface ProgressMessage {
  status?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  stream?: string;
  progress?: string;
  progressDetail?: ProgressDetail | null;
  error?: string;
  errorDetail?: { message?: string; code?: number } | null;
  aux?: unknown;
}

const pad8 = (s: string) => s.padStart(8, ' ');

/** Go's time.Duration.String() for a whole number of seconds ("0s", "59s", "1m0s", "2h3m4s"). */
export function goSeconds(total: number): string {
  if (total === 0) return '0s';
  const neg = total < 0;
  let s = Math.abs(total);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const text = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  return neg ? `-${text}` : text;
}

/** JSONProgress.String(): `[====>   ]  1.2MB/3.4MB 5s` for a terminal `width` columns wide. */
export function progressText(p: ProgressDetail, width: number, nowMs: number = Date.now()): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  const units = p.units ?? '';
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return units === '' ? pad8(humanSize(current, 4)) : `${current} ${units}`;
  // Go truncates the percentage to an int before halving it (integer division).
  const percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  let bar = '';
  if (width > 110)
    bar = `[${'='.repeat(Math.max(0, percentage))}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (p.hidecounts) numbers = '';
  else if (units === '') {
    const cur = humanSize(current, 4);
    numbers = current > total ? pad8(cur) : `${pad8(cur)}/${humanSize(total, 4)}`;
  } else numbers = current > total ? `${current} ${units}` : `${current}/${total} ${units}`;
  let left = '';
  if (width > 50 && current > 0 && (p.start ?? 0) > 0 && percentage < 50) {
    // Go: perEntry = fromStart / current in whole nanoseconds; left = (total-current) * perEntry.
    const fromStartNs = BigInt(Math.round(nowMs * 1e6)) - BigInt(p.start ?? 0) * 1_000_000_000n;
    const perEntry = fromStartNs / BigInt(current);
    const leftNs = BigInt(total - current) * perEntry;
    left = ` ${goSeconds(roundToSeconds(leftNs))}`;
  }
  return bar + numbers + left;
}

/** time.Duration.Round(time.Second): halves away from zero. */
function roundToSeconds(ns: bigint): number {
  const sec = 1_000_000_000n;
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  let q = abs / sec;
  if ((abs % sec) * 2n >= sec) q += 1n;
  return Number(neg ? -q : q);
}

function two(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Go's RFC3339NanoFixed in the local zone ("2006-01-02T15:04:05.000000000Z07:00"). */
export function rfc3339NanoFixed(epochNs: bigint): string {
  const ms = Number(epochNs / 1_000_000n);
  const d = new Date(ms);
  const nanos = Number(((epochNs % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0
      ? 'Z'
      : `${off < 0 ? '-' : '+'}${two(Math.floor(Math.abs(off) / 60))}:${two(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${two(nanos, 9)}${zone}`
  );
}

/**
 * JSONMessage.Display without the error case: the bytes for one message, or '' where docker
 * prints nothing (a progress update without a terminal).
 */
export function displayMessage(m: ProgressMessage, tty: boolean, width: number, nowMs?: number): string {
  const p = m.progressDetail ?? undefined;
  let out = '';
  let endl = '';
  const progress = p ? progressText(p, width, nowMs) : '';
  if (tty && !m.stream && p) {
    endl = '\r';
    out += `\x1b[2K${endl}`;
  } else if (p && progress !== '') return '';
  if (m.timeNano) out += `${rfc3339NanoFixed(BigInt(m.timeNano))} `;
  else if (m.time) out += `${rfc3339NanoFixed(BigInt(m.time) * 1_000_000_000n)} `;
  if (m.id) out += `${m.id}: `;
  if (m.from) out += `(from ${m.from}) `;
  const status = m.status ?? '';
  if (p && tty) out += `${status} ${progress}${endl}`;
  else if (m.progress) out += `${status} ${m.progress}${endl}`;
  else if (m.stream) out += `${m.stream}${endl}`;
  else out += `${status}${endl}\n`;
  return out;
}
