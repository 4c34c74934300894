export {
  ConnectError,
  EngineClient,
  EngineError,
  parseDaemonHost,
  readAll,
  TlsConnectError,
} from './engine.ts';
export type { ClientOptions, RequestOptions, Target } from './engine.ts';
export type { TlsSettings } from './transport.ts';
export * from './types.ts';
