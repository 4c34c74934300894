// A folder of compose projects for one test file, run with `berth compose` against the file's
// berthd: each project is a sub-folder with its compose.yaml (and any files beside it), and
// `down -v` is run for every one of them after the tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { ROOT, type RunResult, run } from './daemon.ts';
import type { DaemonHolder } from './e2e.ts';

export interface ComposeWorkspace {
  readonly work: string;
  /** Writes `<work>/<name>/compose.yaml` and `files` (paths relative to it); returns the name. */
  project(name: string, yaml: string, files?: Record<string, string>): string;
  /** `berth compose <args>` in the project's folder, without COMPOSE_* from this environment. */
  compose(name: string, args: string[], env?: Record<string, string>): Promise<RunResult>;
  /** A top-level `networks:` giving the next project's default network its own /27. */
  networks(): string;
}

export function composeWorkspace(
  h: DaemonHolder,
  o: {
    /** The temp folder's name prefix. */
    readonly prefix: string;
    /** First two octets of the file's subnets: `<net>.<daemon's netByte>.<32·k>/27`. */
    readonly net: string;
    /** Added to every compose command's environment. */
    readonly env?: Record<string, string>;
    readonly timeoutMs?: number;
  },
): ComposeWorkspace {
  const work = mkdtempSync(path.join(os.tmpdir(), o.prefix));
  const projects: string[] = [];
  let slot = 0;
  const compose = (name: string, args: string[], env: Record<string, string> = {}) => {
    const script = 'unset COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES; cd "$1" && shift && exec "$@"';
    return run(
      'sh',
      ['-c', script, 'sh', path.join(work, name), path.join(ROOT, 'bin/berth'), 'compose', ...args],
      { env: { BERTH_HOST: h.d.host, ...o.env, ...env }, timeoutMs: o.timeoutMs ?? 60_000 },
    );
  };
  after(async () => {
    for (const p of projects) await compose(p, ['down', '-v', '-t', '0']).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  });
  return {
    work,
    compose,
    project(name, yaml, files = {}) {
      const dir = path.join(work, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'compose.yaml'), yaml);
      for (const [f, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        writeFileSync(path.join(dir, f), text);
      }
      projects.push(name);
      return name;
    },
    networks: () =>
      `networks:\n  default:\n    ipam: {config: [{subnet: "${o.net}.${h.d.netByte}.${32 * slot++}/27"}]}\n`,
  };
}
