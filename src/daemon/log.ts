// Structured logs: one JSON object per line on stderr (time, level, msg, fields).
import type { LogLevel } from './config.ts';

export type Log = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

export function createLogger(min: LogLevel, out: NodeJS.WritableStream = process.stderr): Log {
  const floor = RANK[min];
  return (level, msg, fields) => {
    if (RANK[level] < floor) return;
    out.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  };
}
