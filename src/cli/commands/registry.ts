// `berth pull` (and later push, login, logout, search): registry commands. Credentials come from
// the docker-compatible config file (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`)
// and travel to the daemon in X-Registry-Auth, as the docker CLI sends them.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { EngineError, type JsonMessage } from '../../client/index.ts';
import { type CliContext, CliError } from '../context.ts';
import { renderList, SEARCH_HEADERS, SEARCH_TABLE_FORMAT, SearchRow } from '../format/index.ts';
import { formatReference, parseReference, withDefaultTag } from '../../oci/reference.ts';
import { displayJsonMessages, ProgressError } from '../progress.ts';
import { platformFlag, unsupportedOption } from './unsupported.ts';

/** The config file the docker CLI uses. */
export function dockerConfigPath(): string {
  return path.join(process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

/** The registry host part of an image reference (docker.io for familiar names). */
export function registryOf(ref: string): string {
  const first = ref.split('/')[0]!;
  if (!ref.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost'))
    return 'docker.io';
  return first;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [other: string]: unknown;
}

function readConfig(file: string): DockerConfigFile {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DockerConfigFile;
  } catch {
    return {};
  }
}

/** The key Docker uses in `auths` for a registry (Docker Hub has its historical URL). */
export function authKey(host: string): string {
  return host === 'docker.io' ? 'https://index.docker.io/v1/' : host;
}

/** Writes the config atomically and private (0600): it holds credentials. */
function writeConfig(file: string, cfg: DockerConfigFile): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The credential helper for a host, if the config names one (credHelpers, then credsStore). */
function helperFor(cfg: DockerConfigFile, host: string): string | undefined {
  return cfg.credHelpers?.[host] ?? cfg.credHelpers?.[authKey(host)] ?? cfg.credsStore;
}

/** Username and password for `host`, from a credential helper or the config's `auths`. */
export function storedCredentials(
  host: string,
  configFile = dockerConfigPath(),
): { username?: string; password?: string; identitytoken?: string } | undefined {
  const cfg = readConfig(configFile);
  const helper = helperFor(cfg, host);
  if (helper) {
    try {
      const out = execFileSync(`docker-credential-${helper}`, ['get'], {
        input: authKey(host),
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      const j = JSON.parse(out.toString('utf8')) as { Username?: string; Secret?: string };
      if (j.Username === '<token>') return { identitytoken: j.Secret ?? '' };
      return { username: j.Username ?? '', password: j.Secret ?? '' };
    } catch {
      return undefined;
    }
  }
  const keys =
    host === 'docker.io'
      ? [authKey(host), 'docker.io', 'index.docker.io']
      : [host, `https://${host}`, `http://${host}`];
  const entry = keys.map((k) => cfg.auths?.[k]).find(Boolean);
  if (!entry) return undefined;
  const [username, ...rest] = Buffer.from(entry.auth ?? '', 'base64')
    .toString('utf8')
    .split(':');
  return {
    ...(username ? { username, password: rest.join(':') } : {}),
    ...(entry.identitytoken ? { identitytoken: entry.identitytoken } : {}),
  };
}

/** X-Registry-Auth for `host` from the stored credentials, if any. */
export function registryAuthHeader(host: string, configFile = dockerConfigPath()): string | undefined {
  const creds = storedCredentials(host, configFile);
  if (!creds) return undefined;
  return Buffer.from(JSON.stringify({ ...creds, serveraddress: host })).toString('base64url');
}

export function saveCredentials(
  host: string,
  username: string,
  password: string,
  configFile = dockerConfigPath(),
): void {
  const cfg = readConfig(configFile);
  const helper = helperFor(cfg, host);
  if (helper) {
    execFileSync(`docker-credential-${helper}`, ['store'], {
      input: JSON.stringify({ ServerURL: authKey(host), Username: username, Secret: password }),
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    return;
  }
  cfg.auths = {
    ...(cfg.auths ?? {}),
    [authKey(host)]: { auth: Buffer.from(`${username}:${password}`).toString('base64') },
  };
  writeConfig(configFile, cfg);
}

/** Removes stored credentials; false when there were none. */
export function removeCredentials(host: string, configFile = dockerConfigPath()): boolean {
  const cfg = readConfig(configFile);
  const helper = helperFor(cfg, host);
  if (helper) {
    try {
      execFileSync(`docker-credential-${helper}`, ['erase'], {
        input: authKey(host),
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      return true;
    } catch {
      return false;
    }
  }
  if (!cfg.auths?.[authKey(host)]) return false;
  delete cfg.auths[authKey(host)];
  writeConfig(configFile, cfg);
  return true;
}

/** `docker login [SERVER]` takes hosts, `host:port` or URLs. */
export function loginServer(arg: string | undefined): string {
  if (!arg) return 'docker.io';
  const host = arg.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/**
 * The reference as the docker CLI prints it after a pull (and a quiet push): fully qualified,
 * `docker.io/library/busybox:latest`, with the default tag unless all tags were asked for.
 */
export function normalisedReference(ref: string, defaultTag: boolean): string {
  try {
    const parsed = parseReference(ref);
    return formatReference(defaultTag ? withDefaultTag(parsed) : parsed);
  } catch {
    return ref;
  }
}

export interface PullFlags {
  quiet?: boolean;
  platform?: string;
  allTags?: boolean;
}

/** `berth pull`, also used by `berth run`/`create` for a missing image. */
export async function pullImageCli(ctx: CliContext, ref: string, o: PullFlags): Promise<void> {
  const at = ref.indexOf('@');
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  let fromImage = ref;
  let tag = '';
  if (at !== -1) [fromImage, tag] = [ref.slice(0, at), ref.slice(at + 1)];
  else if (colon > slash) [fromImage, tag] = [ref.slice(0, colon), ref.slice(colon + 1)];
  else if (o.allTags) tag = '';
  else {
    tag = 'latest';
    if (!o.quiet) ctx.out.write('Using default tag: latest\n');
  }
  if (o.allTags && tag) throw new CliError("tag can't be used with --all-tags/-a", 125);
  const auth = registryAuthHeader(registryOf(fromImage));
  try {
    const messages = ctx.client().jsonLines<JsonMessage>('POST', '/images/create', {
      query: { fromImage, tag, ...(o.platform ? { platform: o.platform } : {}) },
      ...(auth ? { headers: { 'X-Registry-Auth': auth } } : {}),
    });
    if (o.quiet) {
      for await (const m of messages) {
        if (m.error || m.errorDetail)
          throw new ProgressError(m.errorDetail?.message ?? m.error ?? 'pull failed');
      }
    } else await displayJsonMessages(messages, ctx.out);
  } catch (err) {
    throw streamError(err);
  }
  ctx.out.write(`${normalisedReference(ref, !o.allTags)}\n`);
}

/**
 * A pull or push that failed: refused before the stream began (an HTTP error) reads "Error
 * response from daemon: …"; an error inside the stream (a layer failed half way) is printed
 * bare, as the docker CLI prints jsonmessage's errors.
 */
function streamError(err: unknown): unknown {
  if (err instanceof EngineError) return new CliError(`Error response from daemon: ${err.message}`);
  if (err instanceof ProgressError) return new CliError(err.message);
  return err;
}

export function registerRegistry(program: Command, image: Command, ctx: CliContext): void {
  const pull = (ref: string, o: PullFlags) => pullImageCli(ctx, ref, o);

  const push = async (ref: string, o: { quiet?: boolean; allTags?: boolean }) => {
    const slash = ref.lastIndexOf('/');
    const colon = ref.lastIndexOf(':');
    const [name, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, ''];
    if (o.allTags && tag) throw new CliError("tag can't be used with --all-tags/-a", 125);
    if (!tag && !o.allTags && !o.quiet) ctx.out.write('Using default tag: latest\n');
    const auth = registryAuthHeader(registryOf(name));
    try {
      const messages = ctx.client().jsonLines<JsonMessage>('POST', `/images/${name}/push`, {
        query: o.allTags ? {} : { tag: tag || 'latest' },
        headers: { 'X-Registry-Auth': auth ?? Buffer.from('{}').toString('base64url') },
      });
      if (o.quiet) {
        for await (const m of messages) {
          if (m.error || m.errorDetail)
            throw new ProgressError(m.errorDetail?.message ?? m.error ?? 'push failed');
        }
        ctx.out.write(`${normalisedReference(ref, !o.allTags)}\n`);
      } else await displayJsonMessages(messages, ctx.out);
    } catch (err) {
      throw streamError(err);
    }
  };
  program
    .command('search')
    .description('Search a registry for images (host:port/term for a private registry)')
    .argument('<TERM>')
    .option('--limit <int>', 'Max number of search results', '25')
    .option(
      '-f, --filter <filter>',
      'Filter output based on conditions provided',
      collectList,
      [] as string[],
    )
    .option('--no-trunc', "Don't truncate output")
    .option('--format <string>', 'Pretty-print search using a Go template')
    .action(async (term: string, o: { limit: string; filter: string[]; trunc: boolean; format?: string }) => {
      const filters: Record<string, string[]> = {};
      for (const f of o.filter) {
        const i = f.indexOf('=');
        if (i <= 0) throw new CliError(`bad format of filter (expected name=value): ${f}`, 125);
        const key = f.slice(0, i);
        filters[key] = [...(filters[key] ?? []), f.slice(i + 1)];
      }
      let rows: { name: string; description: string; star_count: number; is_official: boolean }[];
      try {
        rows = await ctx.client().json('GET', '/images/search', {
          query: {
            term,
            // 0 is the docker CLI's "not set": it sends no limit and the daemon's default applies.
            limit: Number(o.limit) === 0 ? undefined : o.limit,
            ...(o.filter.length > 0 ? { filters: JSON.stringify(filters) } : {}),
          },
        });
      } catch (err) {
        if (err instanceof EngineError) throw new CliError(`Error response from daemon: ${err.message}`);
        throw err;
      }
      // docker's row marshals IsOfficial as "true"/"false" once `json` has seen it.
      const json = o.format === 'json' || /\{\{\s*json\s+\.\s*\}\}/.test(o.format ?? '');
      ctx.out.write(
        renderList({
          format: o.format,
          defaultTableFormat: SEARCH_TABLE_FORMAT,
          headers: SEARCH_HEADERS,
          rows: rows.map((r) => new SearchRow(r, { trunc: o.trunc !== false, json })),
        }),
      );
    });

  for (const c of [program.command('push'), image.command('push')]) {
    c.description('Upload an image to a registry')
      .argument('<NAME[:TAG]>')
      .option('-q, --quiet', 'Suppress verbose output')
      .option('-a, --all-tags', 'Push all tags of an image to the repository')
      .option('--disable-content-trust', 'Skip image signing (accepted; Berth has no content trust)')
      .addOption(
        unsupportedOption(platformFlag('Push a platform-specific manifest as a single-platform image')),
      )
      .action(push);
  }

  program
    .command('login')
    .description('Authenticate to a registry')
    .argument('[SERVER]')
    .option('-u, --username <string>', 'Username')
    .option('-p, --password <string>', 'Password')
    .option('--password-stdin', 'Take the password from stdin')
    .action(
      async (
        server: string | undefined,
        o: { username?: string; password?: string; passwordStdin?: boolean },
      ) => {
        const host = loginServer(server);
        let password = o.password;
        if (o.passwordStdin) {
          if (o.password) throw new CliError('--password and --password-stdin are mutually exclusive');
          if (!o.username) throw new CliError('Must provide --username with --password-stdin');
          const chunks: Buffer[] = [];
          for await (const c of ctx.stdin) chunks.push(c as Buffer);
          password = Buffer.concat(chunks)
            .toString('utf8')
            .replace(/\r?\n$/, '');
        } else if (o.password) {
          ctx.err.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
        }
        if (!o.username || password === undefined) {
          throw new CliError(
            'Cannot perform an interactive login from a non TTY device: give -u and --password-stdin',
          );
        }
        try {
          await ctx.client().json('POST', '/auth', {
            body: { username: o.username, password, serveraddress: authKey(host) },
          });
        } catch (err) {
          if (err instanceof EngineError) throw new CliError(`Error response from daemon: ${err.message}`);
          throw err;
        }
        saveCredentials(host, o.username, password);
        ctx.out.write('Login Succeeded\n');
      },
    );

  program
    .command('logout')
    .description('Log out from a registry')
    .argument('[SERVER]')
    .action((server: string | undefined) => {
      const host = loginServer(server);
      if (removeCredentials(host)) ctx.out.write(`Removing login credentials for ${authKey(host)}\n`);
      else ctx.out.write(`Not logged in to ${authKey(host)}\n`);
    });

  for (const c of [program.command('pull'), image.command('pull')]) {
    c.description('Download an image from a registry')
      .argument('<NAME[:TAG|@DIGEST]>')
      .option('-q, --quiet', 'Suppress verbose output')
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .option('-a, --all-tags', 'Download all tagged images in the repository')
      .option('--disable-content-trust', 'Skip image verification (accepted; Berth has no content trust)')
      .action(pull);
  }
}

function collectList(v: string, acc: string[]): string[] {
  return [...acc, v];
}

/** Signals passed on to the registry program (what service managers and terminals send). */
const FORWARDED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * `berth registry serve|gc …` runs the registry program that ships beside the CLI, as a child
 * that lives exactly as long as this process: every signal is passed on, the CLI exits with the
 * child's status (re-raising the signal that ended it), and the IPC channel makes the child stop
 * when the CLI dies without a chance to pass anything on (SIGKILL).
 */
export function registerRegistryServer(program: Command): void {
  program
    .command('registry')
    .description("Run Berth's own registry server (serve, gc); see berth registry serve --help")
    .allowUnknownOption()
    .helpOption(false)
    .argument('[ARGS...]')
    .action(async (args: string[]) => {
      const entry = path.join(path.dirname(process.argv[1] ?? ''), 'berth-registry.mjs');
      const child = spawn(process.execPath, [entry, ...args], {
        stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      });
      const forward = (sig: NodeJS.Signals) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      };
      for (const sig of FORWARDED_SIGNALS) process.on(sig, forward);
      const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
        (resolve, reject) => {
          child.once('error', reject);
          child.once('exit', (c, s) => resolve({ code: c, signal: s }));
        },
      ).finally(() => {
        for (const sig of FORWARDED_SIGNALS) process.off(sig, forward);
      });
      if (signal) {
        // Die of the same signal, so whoever waits on the CLI sees what ended the server.
        process.kill(process.pid, signal);
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (code !== 0) throw new CliError('', code ?? 1);
    });
}
