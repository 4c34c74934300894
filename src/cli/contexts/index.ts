// docker's context store and the rules that pick the daemon a command talks to.
import { hostOfContext, type GlobalConnectionOptions, resolveContextName } from './resolve.ts';
import { ContextStore, configDir } from './store.ts';

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

/** The context in use and its daemon address. */
export async function resolveConnection(
  opts: GlobalConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ name: string; host: string }> {
  const store = new ContextStore(configDir(env));
  const name = await resolveContextName(opts, env, store);
  return { name, host: await hostOfContext(name, opts, env, store) };
}
