export { ConnectError, EngineClient, EngineError, parseDaemonHost, readAll } from './engine.ts';
export type { RequestOptions, Target } from './engine.ts';
export * from './types.ts';
