// Registries: the client (resolve, auth, fetch, push) and, later, Berth's own registry server.
export type { Challenge, Credentials } from './client/auth.ts';
export { Authenticator, parseChallenges } from './client/auth.ts';
export { CERT_DIRS, registryCAs } from './client/http.ts';
export {
  type FetchedManifest,
  MANIFEST_ACCEPT,
  RegistryClient,
  type RegistryClientOptions,
  RepositorySession,
  registryHost,
} from './client/session.ts';
