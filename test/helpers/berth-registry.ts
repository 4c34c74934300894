// Berth's own registry server (bin/berth-registry, or `berth registry serve`) on a loopback port
// for tests, plus htpasswd files, token requests and a strict RFC 7235 challenge parser.
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { ROOT } from './daemon.ts';
import { freePort } from './ports.ts';

export { freePort };

export const REGISTRY_BIN = path.join(ROOT, 'bin/berth-registry');
export const BERTH_BIN = path.join(ROOT, 'bin/berth');

/** An htpasswd file with bcrypt hashes of the given cost. */
export async function writeHtpasswd(file: string, users: Record<string, string>, cost = 4): Promise<void> {
  const lines = Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, cost)}`);
  await fsp.writeFile(file, `${lines.join('\n')}\n`);
}

export interface ServedRegistry {
  readonly host: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Waits (bounded) until `host` answers HTTP at /v2/. */
export async function waitUp(host: string, child: ChildProcess, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the registry exited with ${child.exitCode}`);
    const up = await fetch(`http://${host}/v2/`).then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the registry on ${host} did not start`);
}

/** Starts `berth-registry serve` (or `cmd` with the same arguments), stopped by PID. */
export async function serveRegistry(
  root: string,
  extra: string[] = [],
  cmd: string[] = [REGISTRY_BIN, 'serve'],
): Promise<ServedRegistry> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child = spawn(cmd[0]!, [...cmd.slice(1), '--root', root, '--addr', host, ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await waitUp(host, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${log}`);
  }
  return {
    host,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly ms: number;
}

/** One HTTP request to a loopback registry, optionally from another loopback address. */
export function get(
  url: string,
  o: { method?: string; auth?: string; localAddress?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: o.method ?? 'GET',
        agent: false,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        headers: o.auth ? { Authorization: o.auth } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - start,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A token from the registry's own /token realm for the given scopes. */
export async function token(host: string, user: string, password: string, scopes: string[]): Promise<string> {
  const q = new URLSearchParams({ service: host });
  for (const s of scopes) q.append('scope', s);
  const r = await get(`http://${host}/token?${q}`, { auth: basic(user, password) });
  if (r.status !== 200) throw new Error(`token for ${user}: HTTP ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { token: string }).token;
}

export interface ParsedChallenge {
  readonly scheme: string;
  readonly params: Record<string, string>;
}

/**
 * A strict parser of one WWW-Authenticate challenge (RFC 7235 §2.1 / §4.1):
 * `auth-scheme 1*SP auth-param *( OWS "," OWS auth-param )`, each param `token BWS "=" BWS
 * ( token / quoted-string )`. Throws on anything else, as a careful client would drop it.
 */
export function parseChallengeStrict(header: string): ParsedChallenge {
  const tchar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not an RFC 7235 challenge (${why} at ${i}): ${header}`);
  };
  const tokenAt = (): string => {
    const s = i;
    while (i < header.length && tchar.test(header[i]!)) i++;
    if (i === s) fail('token expected');
    return header.slice(s, i);
  };
  const ows = () => {
    while (header[i] === ' ' || header[i] === '\t') i++;
  };
  const scheme = tokenAt();
  if (header[i] !== ' ') fail('SP expected');
  while (header[i] === ' ') i++;
  const params: Record<string, string> = {};
  for (;;) {
    const name = tokenAt().toLowerCase();
    ows();
    if (header[i] !== '=') fail('"=" expected');
    i++;
    ows();
    let value = '';
    if (header[i] === '"') {
      i++;
      for (;;) {
        const c = header[i];
        if (c === undefined) fail('unterminated quoted-string');
        if (c === '"') break;
        if (c === '\\') {
          i++;
          if (header[i] === undefined) fail('bad quoted-pair');
        }
        value += header[i];
        i++;
      }
      i++;
    } else value = tokenAt();
    if (name in params) fail(`repeated parameter ${name}`);
    params[name] = value;
    ows();
    if (i === header.length) break;
    if (header[i] !== ',') fail('"," expected between parameters');
    i++;
    ows();
  }
  return { scheme, params };
}
