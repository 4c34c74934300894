// `berth attach` and `berth top`: joining a running container's streams, and listing its processes.
import type { Command } from 'commander';
import { EngineError } from '../../client/index.ts';
import { type CliContext, CliError } from '../context.ts';
import { tabwrite } from '../format/index.ts';
import { parseDetachKeys, runSession, setExitCode } from './container-io.ts';
import { type UnsupportedFlag, unsupportedOption } from './unsupported.ts';

/** docker's experimental checkpoint restore needs CRIU, which Berth does not drive. */
const CHECKPOINT = (flags: string, description: string): UnsupportedFlag => ({
  flags,
  description,
  reason: 'checkpoint/restore (CRIU) is not implemented',
});

export function registerAttachAndTop(program: Command, container: Command, ctx: CliContext): void {
  const attach = async (ref: string, o: { stdin: boolean; detachKeys?: string; start?: boolean }) => {
    const client = ctx.client();
    const info = await client.json<{
      Id: string;
      State: { Running: boolean; Paused: boolean };
      Config: { Tty: boolean; OpenStdin: boolean };
    }>('GET', `/containers/${encodeURIComponent(ref)}/json`);
    if (!info.State.Running && !o.start)
      throw new CliError('You cannot attach to a stopped container, start it first');
    if (info.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
    if (o.detachKeys) {
      try {
        parseDetachKeys(o.detachKeys);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
    }
    const interactive = o.stdin && info.Config.OpenStdin;
    if (interactive && info.Config.Tty && !ctx.stdin.isTTY)
      throw new CliError('the input device is not a TTY');
    const wait = client.raw('POST', `/containers/${info.Id}/wait`, { query: { condition: 'next-exit' } });
    const conn = await client.hijack(`/containers/${info.Id}/attach`, {
      // The daemon watches for the same keys as this CLI (docker's CLI sends them too).
      query: {
        stream: true,
        stdout: true,
        stderr: true,
        ...(interactive ? { stdin: true } : {}),
        ...(o.detachKeys ? { detachKeys: o.detachKeys } : {}),
      },
    });
    const session = await runSession(conn, ctx, {
      tty: info.Config.Tty,
      interactive,
      ...(o.detachKeys ? { detachKeys: o.detachKeys } : {}),
      resize: (h, w) => client.raw('POST', `/containers/${info.Id}/resize`, { query: { h, w } }),
      ...(o.start && !info.State.Running
        ? {
            start: async () => {
              try {
                await client.raw('POST', `/containers/${info.Id}/start`);
              } catch (err) {
                if (err instanceof EngineError)
                  throw new CliError(`Error response from daemon: ${err.message}`);
                throw err;
              }
            },
          }
        : {}),
    });
    if (session.detached) {
      (await wait).destroy();
      throw new CliError('read escape sequence');
    }
    const chunks: Buffer[] = [];
    for await (const c of await wait) chunks.push(c as Buffer);
    const result = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { StatusCode?: number };
    setExitCode(result.StatusCode ?? 0);
  };
  for (const c of [program.command('attach'), container.command('attach')]) {
    c.description('Attach local standard input, output, and error streams to a running container')
      .argument('<CONTAINER>')
      .option('--no-stdin', 'Do not attach STDIN')
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .option('--sig-proxy', 'Proxy all received signals to the process (accepted; signals are not proxied)')
      .action(attach);
  }

  // `start` with -a/-i attaches like `attach` and then starts; without, it starts each container.
  for (const c of [program.command('start'), container.command('start')]) {
    c.description('Start one or more stopped containers')
      .argument('<CONTAINER...>')
      .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
      .option('-i, --interactive', "Attach container's STDIN")
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .addOption(unsupportedOption(CHECKPOINT('--checkpoint <string>', 'Restore from this checkpoint')))
      .addOption(
        unsupportedOption(
          CHECKPOINT('--checkpoint-dir <string>', 'Use a custom checkpoint storage directory'),
        ),
      )
      .action(async (refs: string[], o: { attach?: boolean; interactive?: boolean; detachKeys?: string }) => {
        if (o.attach || o.interactive) {
          if (refs.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
          await attach(refs[0]!, {
            stdin: Boolean(o.interactive),
            start: true,
            ...(o.detachKeys ? { detachKeys: o.detachKeys } : {}),
          });
          return;
        }
        const errors: string[] = [];
        const failed: string[] = [];
        for (const ref of refs) {
          try {
            await ctx.client().raw('POST', `/containers/${encodeURIComponent(ref)}/start`);
            ctx.out.write(`${ref}\n`);
          } catch (err) {
            if (err instanceof EngineError) errors.push(`Error response from daemon: ${err.message}`);
            else throw err;
            failed.push(ref);
          }
        }
        // docker ends with the list of what did not start.
        if (errors.length > 0)
          throw new CliError(`${errors.join('\n')}\nError: failed to start containers: ${failed.join(', ')}`);
      });
  }

  const top = async (ref: string, psArgs: string[]) => {
    try {
      const r = await ctx
        .client()
        .json<{ Titles: string[]; Processes: string[][] }>(
          'GET',
          `/containers/${encodeURIComponent(ref)}/top`,
          { query: psArgs.length > 0 ? { ps_args: psArgs.join(' ') } : {} },
        );
      const lines = [r.Titles, ...r.Processes].map((row) => `${row.join('\t')}\n`);
      ctx.out.write(tabwrite(lines.join(''), { minWidth: 20, padding: 3 }));
    } catch (err) {
      if (err instanceof EngineError) throw new CliError(`Error response from daemon: ${err.message}`);
      throw err;
    }
  };
  for (const c of [program.command('top'), container.command('top')]) {
    c.description('Display the running processes of a container')
      .argument('<CONTAINER>')
      .argument('[ps OPTIONS...]')
      .passThroughOptions()
      .allowUnknownOption()
      .action(top);
  }
}
