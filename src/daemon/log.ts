import type { Log } from '../base/log.ts';

export type { Log };
// Structured logs: one JSON object per line on stderr (time, level, msg, fields).
import type { LogLevel } from './config.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

export function createLogger(min: LogLevel, out: NodeJS.WritableStream = process.stderr): Log {
  const floor = RANK[min];
  return (level, msg, fields) => {
    if (RANK[level] < floor) return;
    out.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  };
}
