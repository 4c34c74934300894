// `berth exec`: a command in a running container, over the hijacked exec stream.
import type { Command } from 'commander';
import { type CliContext, collect } from '../context.ts';
import { demuxTo, envFromFiles, setExitCode } from './container-io.ts';

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
          Detach: Boolean(o.detach),
        },
      },
    );
    if (o.detach) {
      await client.raw('POST', `/exec/${execId}/start`, { body: { Detach: true, Tty: Boolean(o.tty) } });
      return;
    }
    const conn = await client.hijack(`/exec/${execId}/start`, { body: { Detach: false, Tty: false } });
    const output = demuxTo(conn, ctx.out, ctx.err);
    let stdinDone: (() => void) | undefined;
    if (o.interactive) {
      const stdin = ctx.stdin;
      const onData = (c: Buffer) => {
        if (!conn.write(c)) {
          stdin.pause();
          conn.once('drain', () => stdin.resume());
        }
      };
      const onEnd = () => conn.end();
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdinDone = () => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
        if (!stdin.isTTY) stdin.destroy();
      };
    }
    try {
      await output;
    } finally {
      stdinDone?.();
      conn.destroy();
    }
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
