// Running iproute2 / iptables / util-linux commands: one spawn per call, stdin for batches,
// errors that name the command and its stderr.
import { execFile, spawn } from 'node:child_process';
import { span } from '../base/trace.ts';
import { InternalError } from '../errdefs/index.ts';

export function cmd(file: string, args: readonly string[], input?: string): Promise<string> {
  // Each spawn is its own step in a trace ("spawn.ip netns", "spawn.iptables-restore").
  return span(
    `spawn.${file.split('/').at(-1)}${args[0] && !args[0].startsWith('-') ? ` ${args[0]}` : ''}`,
    () => run(file, args, input),
  );
}

async function run(file: string, args: readonly string[], input?: string): Promise<string> {
  if (input === undefined) {
    return new Promise((resolve, reject) => {
      execFile(file, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err)
          reject(
            new InternalError(
              'NETWORK_COMMAND',
              `${file} ${args.join(' ')}: ${stderr.trim() || err.message}`,
            ),
          );
        else resolve(stdout);
      });
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let errText = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (errText += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else
        reject(
          new InternalError(
            'NETWORK_COMMAND',
            `${file} ${args.join(' ')}: ${errText.trim() || `exit ${code}`}\n${input}`,
          ),
        );
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** Like cmd, but a failure is ignored (cleanup of things that may already be gone). */
export async function tryCmd(file: string, args: readonly string[], input?: string): Promise<boolean> {
  return cmd(file, args, input).then(
    () => true,
    () => false,
  );
}
