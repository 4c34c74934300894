export { DEFAULTS, parseCommandLine, parseHost, USAGE } from './config.ts';
export type { DaemonConfig } from './config.ts';
export { startDaemon } from './daemon.ts';
export { createLevelledLogger, createLogger } from './log.ts';
export { tlsServerOptions } from './tls.ts';
export { checkDefaultUlimits } from './ulimits.ts';
