// `docker top`: the host's `ps` output, with the caller's ps options, limited to a container's
// processes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvalidArgumentError } from '../errdefs/index.ts';

const execFileP = promisify(execFile);

export async function psTop(
  pids: ReadonlySet<number>,
  psArgs: string,
): Promise<{ titles: string[]; processes: string[][] }> {
  const args = psArgs.split(/\s+/).filter(Boolean);
  if (args.some((a) => !/^[-\w,=:%]+$/.test(a))) {
    throw new InvalidArgumentError('INVALID_PS_ARGS', `invalid ps options "${psArgs}"`);
  }
  const { stdout } = await execFileP('ps', args).catch((err: { stderr?: string }) => {
    throw new InvalidArgumentError('INVALID_PS_ARGS', `ps ${psArgs} failed: ${err.stderr?.trim() ?? ''}`);
  });
  const lines = stdout.trimEnd().split('\n');
  const titles = lines[0]!.trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol === -1)
    throw new InvalidArgumentError('INVALID_PS_ARGS', `ps ${psArgs} output has no PID column`);
  const processes = lines
    .slice(1)
    .map((l) => {
      const cols = l.trim().split(/\s+/);
      // The last column (the command) may contain spaces.
      return [...cols.slice(0, titles.length - 1), cols.slice(titles.length - 1).join(' ')];
    })
    .filter((cols) => pids.has(Number(cols[pidCol])));
  return { titles, processes };
}
