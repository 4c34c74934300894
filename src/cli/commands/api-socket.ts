// `run/create --use-api-socket` as the docker CLI 28 does it: besides binding the daemon's socket
// at /var/run/docker.sock, the user's registry credentials (DOCKER_AUTH_CONFIG, else every entry
// of the config file's credential store and helpers) are written into the created container at
// /run/secrets/docker/config.json (mode 0600, only `auths`), and DOCKER_CONFIG points there —
// unless the container's environment already sets DOCKER_CONFIG.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { tarOfFiles } from '../../archive/index.ts';
import { type CliContext, CliError } from '../context.ts';
import { dockerConfigPath } from './registry.ts';

export const API_SOCKET_CONFIG = '/run/secrets/docker/config.json';

/** One `auths` entry as docker's config file saves it (user and password folded into `auth`). */
export interface SavedAuth {
  auth?: string;
  email?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface ConfigFileAuths {
  auths?: Record<string, SavedAuth & { username?: string; password?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

function saved(e: SavedAuth & { username?: string; password?: string }): SavedAuth {
  const auth =
    e.username || e.password
      ? Buffer.from(`${e.username ?? ''}:${e.password ?? ''}`).toString('base64')
      : e.auth;
  return {
    ...(auth ? { auth } : {}),
    ...(e.email ? { email: e.email } : {}),
    ...(e.identitytoken ? { identitytoken: e.identitytoken } : {}),
    ...(e.registrytoken ? { registrytoken: e.registrytoken } : {}),
  };
}

function helper(name: string, verb: 'get' | 'list', input: string): string {
  return execFileSync(`docker-credential-${name}`, [verb], {
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  }).toString('utf8');
}

function fromHelper(name: string, server: string): SavedAuth {
  const j = JSON.parse(helper(name, 'get', server)) as { Username?: string; Secret?: string };
  if (j.Username === '<token>') return { identitytoken: j.Secret ?? '' };
  return saved({ username: j.Username ?? '', password: j.Secret ?? '' });
}

/** docker's readCredentials: DOCKER_AUTH_CONFIG when it holds any, else GetAllCredentials of the config file. */
export function apiSocketCredentials(
  env: NodeJS.ProcessEnv = process.env,
  configFile = dockerConfigPath(),
): Record<string, SavedAuth> {
  const fail = (why: string): never => {
    throw new CliError(`berth: resolving credentials failed: ${why}`, 125);
  };
  if (env.DOCKER_AUTH_CONFIG) {
    let parsed: ConfigFileAuths;
    try {
      parsed = JSON.parse(env.DOCKER_AUTH_CONFIG) as ConfigFileAuths;
    } catch (err) {
      return fail(`failed to read credentials from DOCKER_AUTH_CONFIG: ${(err as Error).message}`);
    }
    const auths = Object.entries(parsed.auths ?? {});
    if (auths.length > 0) return Object.fromEntries(auths.map(([k, v]) => [k, saved(v)]));
  }
  let cfg: ConfigFileAuths = {};
  try {
    cfg = JSON.parse(readFileSync(configFile, 'utf8')) as ConfigFileAuths;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') fail(`${configFile}: ${(err as Error).message}`);
  }
  const out: Record<string, SavedAuth> = {};
  try {
    if (cfg.credsStore) {
      const listed = JSON.parse(helper(cfg.credsStore, 'list', '')) as Record<string, string>;
      for (const server of Object.keys(listed)) out[server] = fromHelper(cfg.credsStore, server);
    } else for (const [k, v] of Object.entries(cfg.auths ?? {})) out[k] = saved(v);
    // A registry's own helper wins over the default store.
    for (const [server, name] of Object.entries(cfg.credHelpers ?? {}))
      out[server] = fromHelper(name, server);
  } catch (err) {
    fail((err as Error).message.split('\n')[0] ?? String(err));
  }
  return out;
}

/** The config.json the container gets: docker's MarshalIndent with tabs, keys sorted as Go sorts map keys. */
export function apiSocketConfigJson(creds: Record<string, SavedAuth>): string {
  const auths = Object.fromEntries(
    Object.keys(creds)
      .sort()
      .map((k) => [k, creds[k]]),
  );
  return JSON.stringify({ auths }, null, '\t');
}

/** Copies the credentials into the created container (PUT archive at `/`, as docker's CLI). */
export async function injectApiSocketConfig(
  ctx: CliContext,
  id: string,
  creds: Record<string, SavedAuth>,
): Promise<void> {
  const tar = tarOfFiles([
    { name: API_SOCKET_CONFIG, content: Buffer.from(apiSocketConfigJson(creds)), mode: 0o600 },
  ]);
  try {
    (
      await ctx.client().raw('PUT', `/containers/${encodeURIComponent(id)}/archive`, {
        query: { path: '/' },
        stream: Readable.from([tar]),
      })
    ).resume();
  } catch (err) {
    throw new CliError(
      `berth: injecting docker config.json into container failed: copying config.json into container failed: ${(err as Error).message}`,
      125,
    );
  }
}
