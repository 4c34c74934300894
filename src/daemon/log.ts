import type { Log } from '../base/log.ts';

export type { Log };
// Structured logs: one JSON object per line on stderr (time, level, msg, fields).
import type { LogLevel } from './config.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

export function createLogger(min: LogLevel, out: NodeJS.WritableStream = process.stderr): Log {
  return createLevelledLogger(min, out).log;
}

/** A logger whose level SIGHUP can change (daemon.json `log-level`, `debug`). */
export function createLevelledLogger(
  min: LogLevel,
  out: NodeJS.WritableStream = process.stderr,
): { log: Log; setLevel(level: LogLevel): void } {
  let floor = RANK[min];
  return {
    log: (level, msg, fields) => {
      if (RANK[level] < floor) return;
      out.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
    },
    setLevel: (level) => {
      floor = RANK[level];
    },
  };
}
