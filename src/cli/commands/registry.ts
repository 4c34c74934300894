// `berth pull` (and later push, login, logout, search): registry commands. Credentials come from
// the docker-compatible config file (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`)
// and travel to the daemon in X-Registry-Auth, as the docker CLI sends them.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { EngineError, type JsonMessage } from '../../client/index.ts';
import { type CliContext, CliError } from '../context.ts';
import { displayJsonMessages, ProgressError } from '../progress.ts';

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

/** X-Registry-Auth for `host` from the config file's `auths` (base64 user:pass), if any. */
export function registryAuthHeader(host: string, configFile = dockerConfigPath()): string | undefined {
  let cfg: { auths?: Record<string, { auth?: string; identitytoken?: string }> };
  try {
    cfg = JSON.parse(readFileSync(configFile, 'utf8')) as typeof cfg;
  } catch {
    return undefined;
  }
  const keys =
    host === 'docker.io'
      ? ['https://index.docker.io/v1/', 'docker.io', 'index.docker.io']
      : [host, `https://${host}`, `http://${host}`];
  const entry = keys.map((k) => cfg.auths?.[k]).find(Boolean);
  if (!entry) return undefined;
  const [username, ...rest] = Buffer.from(entry.auth ?? '', 'base64')
    .toString('utf8')
    .split(':');
  const auth = {
    ...(username ? { username, password: rest.join(':') } : {}),
    ...(entry.identitytoken ? { identitytoken: entry.identitytoken } : {}),
    serveraddress: host,
  };
  return Buffer.from(JSON.stringify(auth)).toString('base64url');
}

export function registerRegistry(program: Command, image: Command, ctx: CliContext): void {
  const pull = async (ref: string, o: { quiet?: boolean; platform?: string; allTags?: boolean }) => {
    if (o.allTags)
      throw new CliError('berth pull --all-tags is not supported yet: pull each tag by name', 125);
    const at = ref.indexOf('@');
    const slash = ref.lastIndexOf('/');
    const colon = ref.lastIndexOf(':');
    let fromImage = ref;
    let tag = '';
    if (at !== -1) [fromImage, tag] = [ref.slice(0, at), ref.slice(at + 1)];
    else if (colon > slash) [fromImage, tag] = [ref.slice(0, colon), ref.slice(colon + 1)];
    else {
      tag = 'latest';
      if (!o.quiet) ctx.out.write('Using default tag: latest\n');
    }
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
      if (err instanceof EngineError || err instanceof ProgressError)
        throw new CliError(`Error response from daemon: ${err.message}`);
      throw err;
    }
    const shown = at !== -1 || colon > slash ? ref : `${ref}:latest`;
    ctx.out.write(`${shown}\n`);
  };
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
