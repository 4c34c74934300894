// What every command needs: the client, the output streams, and docker-style failures.
import { type ClientOptions, EngineClient } from '../client/index.ts';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export interface CliContext {
  client(): EngineClient;
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
}

/** A failure the CLI reports with a message and an exit status (docker: 1 for daemon errors, 125 for usage). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.BERTH_HOST ?? env.DOCKER_HOST ?? DEFAULT_HOST;
}

export function createContext(host: string, options: ClientOptions = {}): CliContext {
  let client: EngineClient | undefined;
  return {
    client: () => {
      client ??= new EngineClient(host, options);
      return client;
    },
    out: process.stdout,
    err: process.stderr,
    stdin: process.stdin,
  };
}

/** Collects a repeatable option (`--filter a --filter b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** docker's `--filter key=value` list → the API's filters JSON. */
export function filtersJson(list: readonly string[]): string | undefined {
  if (list.length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const f of list) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new CliError(`bad format of filter (expected name=value): ${f}`, 125);
    const k = f.slice(0, eq).trim().toLowerCase();
    out[k] = [...(out[k] ?? []), f.slice(eq + 1)];
  }
  return JSON.stringify(out);
}
