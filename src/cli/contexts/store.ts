// docker's context store, shared with the docker CLI: `$DOCKER_CONFIG` (default ~/.docker)
// holds `contexts/meta/<sha256 of name>/meta.json` and TLS files under
// `contexts/tls/<sha256 of name>/docker/`, and `config.json`'s `currentContext` names the
// context in use ("" or absent: `default`, which lives nowhere on disk and is built from
// DOCKER_HOST / BERTH_HOST / the default socket).
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atomicWriteFile } from '../../base/atomic.ts';
import { CliError } from '../context.ts';

export const DEFAULT_CONTEXT = 'default';

/** The docker endpoint of a context (meta.json's `Endpoints.docker`). */
export interface DockerEndpoint {
  Host?: string;
  SkipTLSVerify?: boolean;
}

/** meta.json as docker writes it. */
export interface ContextMetadata {
  Name: string;
  Metadata: { Description?: string; [k: string]: unknown };
  Endpoints: { docker?: DockerEndpoint; [k: string]: unknown };
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

/** The store's directory name for a context: the hex sha256 of its name (docker's contextdirOf). */
export function contextDirName(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

/** docker's ValidateContextName, with its messages. */
export function validateContextName(name: string): void {
  if (name === '') throw new CliError('context name cannot be empty');
  if (name === DEFAULT_CONTEXT) throw new CliError('"default" is a reserved context name');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$/.test(name)) {
    throw new CliError(
      `context name "${name}" is invalid, names are validated against regexp "^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"`,
    );
  }
}

export class ContextStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  metaDir(name: string): string {
    return path.join(this.dir, 'contexts', 'meta', contextDirName(name));
  }

  tlsDir(name: string): string {
    return path.join(this.dir, 'contexts', 'tls', contextDirName(name));
  }

  async list(): Promise<ContextMetadata[]> {
    const root = path.join(this.dir, 'contexts', 'meta');
    const dirs = await fsp.readdir(root).catch(() => [] as string[]);
    const out: ContextMetadata[] = [];
    for (const d of dirs) {
      const meta = await readMeta(path.join(root, d, 'meta.json'));
      if (meta) out.push(meta);
    }
    return out;
  }

  /** The stored context, or undefined when there is none by that name. */
  async find(name: string): Promise<ContextMetadata | undefined> {
    return readMeta(path.join(this.metaDir(name), 'meta.json'));
  }

  /** The stored context; a missing one fails with docker's message. */
  async get(name: string): Promise<ContextMetadata> {
    const meta = await this.find(name);
    if (!meta)
      throw new CliError(
        `context "${name}": context not found: open ${path.join(this.metaDir(name), 'meta.json')}: no such file or directory`,
      );
    return meta;
  }

  async write(meta: ContextMetadata): Promise<void> {
    const dir = this.metaDir(meta.Name);
    await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
    await atomicWriteFile(path.join(dir, 'meta.json'), JSON.stringify(meta));
  }

  async remove(name: string): Promise<void> {
    await fsp.rm(this.metaDir(name), { recursive: true, force: true });
    await fsp.rm(this.tlsDir(name), { recursive: true, force: true });
  }

  /** TLS files per endpoint (`{docker: ["ca.pem", …]}`), as `context inspect` lists them. */
  async tlsFiles(name: string): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    const root = this.tlsDir(name);
    for (const ep of await fsp.readdir(root).catch(() => [] as string[])) {
      out[ep] = (await fsp.readdir(path.join(root, ep)).catch(() => [] as string[])).sort();
    }
    return out;
  }

  /** Reads one TLS file of an endpoint. */
  async readTls(name: string, endpoint: string, file: string): Promise<Buffer> {
    return fsp.readFile(path.join(this.tlsDir(name), endpoint, file));
  }

  /** Replaces an endpoint's TLS files (none removes them). */
  async writeTls(name: string, endpoint: string, files: Readonly<Record<string, Uint8Array>>): Promise<void> {
    const dir = path.join(this.tlsDir(name), endpoint);
    await fsp.rm(dir, { recursive: true, force: true });
    if (Object.keys(files).length === 0) return;
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const [f, data] of Object.entries(files)) {
      // Keys stay private to the user, as docker's store keeps them.
      await atomicWriteFile(path.join(dir, f), data, { mode: f === 'key.pem' ? 0o600 : 0o644 });
    }
  }

  /** config.json's currentContext ("" when unset). */
  async currentContext(): Promise<string> {
    const cfg = await this.readConfig();
    return typeof cfg.currentContext === 'string' ? cfg.currentContext : '';
  }

  /** Sets config.json's currentContext, keeping every other key ("" removes it, as docker does). */
  async setCurrentContext(name: string): Promise<void> {
    const cfg = await this.readConfig();
    if ((cfg.currentContext ?? '') === name) return;
    if (name === '') delete cfg.currentContext;
    else cfg.currentContext = name;
    await fsp.mkdir(this.dir, { recursive: true });
    await atomicWriteFile(path.join(this.dir, 'config.json'), `${JSON.stringify(cfg, null, '\t')}\n`, {
      mode: 0o600,
    });
  }

  private async readConfig(): Promise<Record<string, unknown>> {
    const text = await fsp.readFile(path.join(this.dir, 'config.json'), 'utf8').catch(() => '');
    if (text.trim() === '') return {};
    try {
      const v = JSON.parse(text) as unknown;
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    } catch (err) {
      throw new CliError(
        `loading config file: ${path.join(this.dir, 'config.json')}: ${(err as Error).message}`,
      );
    }
  }
}

async function readMeta(file: string): Promise<ContextMetadata | undefined> {
  const text = await fsp.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const v = JSON.parse(text) as Partial<ContextMetadata>;
  return {
    Name: String(v.Name ?? ''),
    Metadata: (v.Metadata as ContextMetadata['Metadata']) ?? {},
    Endpoints: (v.Endpoints as ContextMetadata['Endpoints']) ?? {},
  };
}
