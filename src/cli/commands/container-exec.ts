// `berth exec`: a command in a running container, over the hijacked exec stream.
import type { Command } from 'commander';
import { CliError, type CliContext, collect } from '../context.ts';
import { envFromFiles, runSession, setExitCode } from './container-io.ts';

export function registerExec(program: Command, container: Command, ctx: CliContext): void {
  const exec = async (
    id: string,
    cmd: string[],
    o: {
      detach?: boolean;
      interactive?: boolean;
      tty?: boolean;
      env: string[];
      envFile: string[];
      user?: string;
      workdir?: string;
      privileged?: boolean;
      detachKeys?: string;
    },
  ) => {
    const env = [...envFromFiles(o.envFile), ...o.env].map((e) =>
      e.includes('=') || process.env[e] === undefined ? e : `${e}=${process.env[e]}`,
    );
    const client = ctx.client();
    const attach = !o.detach;
    const { Id: execId } = await client.json<{ Id: string }>(
      'POST',
      `/containers/${encodeURIComponent(id)}/exec`,
      {
        body: {
          Cmd: cmd,
          Env: env,
          ...(o.user ? { User: o.user } : {}),
          ...(o.workdir ? { WorkingDir: o.workdir } : {}),
          Tty: Boolean(o.tty),
          Privileged: Boolean(o.privileged),
          AttachStdin: attach && Boolean(o.interactive),
          AttachStdout: attach,
          AttachStderr: attach,
          ...(o.detachKeys ? { DetachKeys: o.detachKeys } : {}),
          Detach: Boolean(o.detach),
          ...(o.tty && process.stdout.isTTY
            ? { ConsoleSize: [process.stdout.rows, process.stdout.columns] }
            : {}),
        },
      },
    );
    if (o.detach) {
      await client.raw('POST', `/exec/${execId}/start`, { body: { Detach: true, Tty: Boolean(o.tty) } });
      return;
    }
    if (o.tty && o.interactive && !ctx.stdin.isTTY) throw new CliError('the input device is not a TTY', 1);
    const conn = await client.hijack(`/exec/${execId}/start`, {
      body: { Detach: false, Tty: Boolean(o.tty) },
    });
    const session = await runSession(conn, ctx, {
      tty: Boolean(o.tty),
      interactive: Boolean(o.interactive),
      ...(o.detachKeys ? { detachKeys: o.detachKeys } : {}),
      resize: (h, w) => client.raw('POST', `/exec/${execId}/resize`, { query: { h, w } }),
    });
    if (session.detached) return;
    const info = await client.json<{ ExitCode: number | null; Running: boolean }>(
      'GET',
      `/exec/${execId}/json`,
    );
    setExitCode(info.ExitCode ?? 0);
  };
  for (const c of [program.command('exec'), container.command('exec')]) {
    c.description('Execute a command in a running container')
      .argument('<CONTAINER>')
      .argument('<COMMAND...>')
      .option('-d, --detach', 'Detached mode: run command in the background')
      .option('-i, --interactive', 'Keep STDIN open even if not attached')
      .option('-t, --tty', 'Allocate a pseudo-TTY')
      .option('-e, --env <list>', 'Set environment variables', collect, [])
      .option('--env-file <file>', 'Read in a file of environment variables', collect, [])
      .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
      .option('-w, --workdir <string>', 'Working directory inside the container')
      .option('--privileged', 'Give extended privileges to the command')
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .passThroughOptions()
      .action(exec);
  }
}
