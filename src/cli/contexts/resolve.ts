// Which context and daemon a berth command talks to, by docker's rules (cli/command/cli.go):
// --context, else `default` when -H or DOCKER_HOST (or BERTH_HOST) is set, else DOCKER_CONTEXT,
// else config.json's currentContext, else `default`. The default context's endpoint is -H,
// BERTH_HOST, DOCKER_HOST or Berth's own socket.
import { CliError, DEFAULT_HOST } from '../context.ts';
import { type ContextStore, DEFAULT_CONTEXT } from './store.ts';

export interface GlobalConnectionOptions {
  readonly host?: string | undefined;
  readonly context?: string | undefined;
}

export async function resolveContextName(
  opts: GlobalConnectionOptions,
  env: NodeJS.ProcessEnv,
  store: ContextStore,
): Promise<string> {
  if (opts.context && opts.host) {
    throw new CliError('conflicting options: cannot specify both --host and --context');
  }
  if (opts.context) return opts.context;
  if (opts.host || env.BERTH_HOST || env.DOCKER_HOST) return DEFAULT_CONTEXT;
  if (env.DOCKER_CONTEXT) return env.DOCKER_CONTEXT;
  return (await store.currentContext()) || DEFAULT_CONTEXT;
}

/** The default context's daemon address. */
export function defaultHost(opts: GlobalConnectionOptions, env: NodeJS.ProcessEnv): string {
  // An empty variable counts as unset, as docker's os.Getenv checks do.
  return opts.host || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

/** The daemon address of a context (a stored context without a host falls back to the default). */
export async function hostOfContext(
  name: string,
  opts: GlobalConnectionOptions,
  env: NodeJS.ProcessEnv,
  store: ContextStore,
): Promise<string> {
  if (name === DEFAULT_CONTEXT) return defaultHost(opts, env);
  const meta = await store.get(name);
  return meta.Endpoints.docker?.Host || defaultHost({}, env);
}
