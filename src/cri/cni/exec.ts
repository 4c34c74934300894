// Running one CNI plugin as the spec's execution protocol says: the command and its arguments in
// CNI_* environment variables, the network configuration on stdin, the result (or a structured
// error: cniVersion, code, msg, details) on stdout. Every run has a deadline: a plugin that
// hangs is killed and its call fails naming it.
import { spawn } from 'node:child_process';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

export interface PluginRun {
  readonly command: CniCommand;
  /** The executable found on CNI_PATH and the plugin type it was found for. */
  readonly file: string;
  readonly type: string;
  readonly containerId: string;
  /** Empty when there is no netns any more (DEL after the namespace went). */
  readonly netns: string;
  readonly ifName: string;
  readonly args: ReadonlyArray<readonly [string, string]>;
  readonly path: readonly string[];
  readonly config: Record<string, unknown>;
  readonly timeoutMs: number;
}

/** A plugin refused or failed: its type, the command, and what it said. */
export class CniPluginError extends Error {
  readonly plugin: string;
  readonly cniCode: number | undefined;
  constructor(plugin: string, message: string, cniCode?: number) {
    super(message);
    this.plugin = plugin;
    this.cniCode = cniCode;
  }
}

/** Runs the plugin; resolves to its parsed stdout (an empty object when it printed nothing). */
export function execPlugin(r: PluginRun): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(r.file, [], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: r.command,
        CNI_CONTAINERID: r.containerId,
        CNI_NETNS: r.netns,
        CNI_IFNAME: r.ifName,
        CNI_ARGS: r.args.map(([k, v]) => `${k}=${v}`).join(';'),
        CNI_PATH: r.path.join(':'),
      },
    });
    const what = `CNI plugin ${r.type} (${r.command})`;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, r.timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CniPluginError(r.type, `${what} could not run ${r.file}: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8').trim();
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (timedOut)
        return reject(new CniPluginError(r.type, `${what} timed out after ${r.timeoutMs} ms and was killed`));
      let parsed: unknown;
      try {
        parsed = stdout === '' ? {} : JSON.parse(stdout);
      } catch {
        parsed = undefined;
      }
      if (code === 0) {
        if (typeof parsed !== 'object' || parsed === null)
          return reject(
            new CniPluginError(r.type, `${what} printed a result that is not JSON: ${stdout.slice(0, 200)}`),
          );
        return resolve(parsed as Record<string, unknown>);
      }
      const e = (parsed ?? {}) as { code?: number; msg?: string; details?: string };
      const said = [e.msg, e.details].filter(Boolean).join(': ') || stderr || stdout || `exit status ${code}`;
      reject(
        new CniPluginError(
          r.type,
          `${what} failed: ${said}${typeof e.code === 'number' ? ` (CNI error code ${e.code})` : ''}`,
          e.code,
        ),
      );
    });
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(r.config));
  });
}
