/** The structured logger every layer receives (implemented in daemon/log.ts). */
export type Log = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;
