// docker's context store and the rules that pick the daemon a command talks to.
import type { TlsSettings } from '../../client/index.ts';
import { hostOfContext, type GlobalConnectionOptions, resolveContextName } from './resolve.ts';
import { ContextStore, configDir, DEFAULT_CONTEXT } from './store.ts';

export { defaultHost, type GlobalConnectionOptions, hostOfContext, resolveContextName } from './resolve.ts';
export {
  type ContextMetadata,
  ContextStore,
  configDir,
  contextDirName,
  DEFAULT_CONTEXT,
  type DockerEndpoint,
  validateContextName,
} from './store.ts';
export { exportContext, importContext } from './archive.ts';

/** The context in use, its daemon address and (stored contexts) its TLS settings. */
export async function resolveConnection(
  opts: GlobalConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ name: string; host: string; tls?: TlsSettings }> {
  const store = new ContextStore(configDir(env));
  const name = await resolveContextName(opts, env, store);
  const host = await hostOfContext(name, opts, env, store);
  if (name === DEFAULT_CONTEXT) return { name, host };
  const tls = await contextTls(store, name);
  return tls ? { name, host, tls } : { name, host };
}

/**
 * A stored context's TLS, as docker's context loader builds it (cli/context/docker/load.go):
 * none without TLS files and without skip-tls-verify; else TLS with the files there are, the
 * server's certificate checked unless SkipTLSVerify.
 */
async function contextTls(store: ContextStore, name: string): Promise<TlsSettings | undefined> {
  const meta = await store.get(name);
  const skip = meta.Endpoints.docker?.SkipTLSVerify === true;
  const files = (await store.tlsFiles(name)).docker ?? [];
  if (files.length === 0 && !skip) return undefined;
  const read = async (f: string) => (files.includes(f) ? await store.readTls(name, 'docker', f) : undefined);
  const [ca, cert, key] = await Promise.all([read('ca.pem'), read('cert.pem'), read('key.pem')]);
  return {
    verify: !skip,
    ...(ca ? { ca } : {}),
    ...(cert && key ? { cert, key } : {}),
  };
}
