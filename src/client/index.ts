export {
  ConnectError,
  EngineClient,
  EngineError,
  parseDaemonHost,
  readAll,
  SshConnectError,
  TlsConnectError,
} from './engine.ts';
export type { ClientOptions, RequestOptions, Target } from './engine.ts';
export { REMOTE_COMMAND_ENV } from './ssh.ts';
export type { SshEndpoint } from './ssh.ts';
export type { TlsSettings } from './transport.ts';
export * from './types.ts';
