// berth events: the daemon's event stream, printed like docker's (text lines or --format templates).
import type { Command } from 'commander';
import { CliError, type CliContext, collect, filtersJson } from '../context.ts';
import { compileTemplate, eventView } from '../format/index.ts';

interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  scope?: string;
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** A Go duration ("10m", "1h30m", "1.5s") in seconds, or undefined when `v` is not one. */
function parseDuration(v: string): number | undefined {
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(v);
  if (!m) return undefined;
  let total = 0;
  for (const part of v.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * DURATION_UNITS[part[2]!]!;
  }
  return m[1] === '-' ? -total : total;
}

/**
 * docker's timestamp option value (GetTimestamp): Unix seconds pass through; a duration is that
 * long before now; an RFC 3339 time or date becomes Unix seconds with its nanoseconds.
 */
export function eventTimestamp(v: string, nowMs = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(v)) return v;
  const d = parseDuration(v);
  if (d !== undefined) return formatSeconds(nowMs / 1000 - d);
  // Keep the fractional seconds exactly; Date.parse only keeps milliseconds.
  const frac = /T\d{2}:\d{2}:\d{2}\.(\d+)/.exec(v)?.[1];
  const withoutFrac = frac === undefined ? v : v.replace(`.${frac}`, '');
  const hasZone = /T.*(Z|[+-]\d{2}:?\d{2})$/i.test(withoutFrac);
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(withoutFrac);
  const t = Date.parse(hasZone || dateOnly ? withoutFrac : `${withoutFrac}Z`);
  if (Number.isNaN(t)) throw new CliError(`invalid value for time: "${v}"`, 1);
  const secs = Math.floor(t / 1000);
  return `${secs}.${(frac ?? '').padEnd(9, '0').slice(0, 9)}`;
}

function formatSeconds(s: number): string {
  const secs = Math.floor(s);
  const nanos = Math.round((s - secs) * 1e9);
  return `${secs}.${String(Math.min(nanos, 999_999_999)).padStart(9, '0')}`;
}

/** RFC3339NanoFixed in UTC from a nanosecond count given as a decimal string. */
export function formatEventTime(timeNano: string): string {
  const ns = BigInt(timeNano);
  const secs = ns / 1_000_000_000n;
  const frac = String(ns % 1_000_000_000n).padStart(9, '0');
  const iso = new Date(Number(secs) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return `${iso}.${frac}Z`;
}

/** docker's default event line: `TIME TYPE ACTION ID (k=v, ...)`. */
export function prettyEvent(e: EventMessage, timeNano: string | undefined): string {
  let line = '';
  if (timeNano && timeNano !== '0') line += `${formatEventTime(timeNano)} `;
  else if (e.time) line += `${formatEventTime(String(BigInt(e.time) * 1_000_000_000n))} `;
  line += `${e.Type ?? ''} ${e.Action ?? ''} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length > 0) line += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${line}\n`;
}

export function registerEvents(program: Command, ctx: CliContext): void {
  const events = async (o: { since?: string; until?: string; filter: string[]; format?: string }) => {
    const now = Date.now();
    const since = o.since !== undefined ? eventTimestamp(o.since, now) : undefined;
    const until = o.until !== undefined ? eventTimestamp(o.until, now) : undefined;
    const template =
      o.format !== undefined && o.format !== ''
        ? compileTemplate(o.format === 'json' ? '{{json .}}' : o.format)
        : undefined;
    const res = await ctx.client().raw('GET', '/events', {
      query: { since, until, filters: filtersJson(o.filter) },
    });
    let buf = '';
    const emit = (line: string) => {
      if (!line.trim()) return;
      const e = JSON.parse(line) as EventMessage;
      // Read from the raw line: nanoseconds since 1970 do not fit a double.
      const timeNano = /"timeNano":\s*(\d+)/.exec(line)?.[1];
      if (template) ctx.out.write(`${template.render(eventView(e, BigInt(timeNano ?? 0)))}\n`);
      else ctx.out.write(prettyEvent(e, timeNano));
    };
    for await (const chunk of res) {
      buf += (chunk as Buffer).toString('utf8');
      let nl = buf.indexOf('\n');
      while (nl !== -1) {
        emit(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
      }
    }
    emit(buf);
  };
  const system = program.commands.find((c) => c.name() === 'system');
  for (const c of [program.command('events'), ...(system ? [system.command('events')] : [])]) {
    c.description('Get real time events from the server')
      .option('--since <string>', 'Show all events created since timestamp')
      .option('--until <string>', 'Stream events until this timestamp')
      .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
      .option('--format <string>', 'Format output using a custom template')
      .action(events);
  }
}
