// `berth system dial-stdio`: joins this process's stdin/stdout to a raw connection to the daemon
// (-H, DOCKER_HOST or the context), so any client that speaks docker's ssh protocol reaches
// berthd through `ssh host berth system dial-stdio`. As docker's does (cli/command/system/
// dial_stdio.go): stdin's EOF shuts down the connection's write side only (the daemon still
// answers), and the daemon ending the connection ends the command with status 0 at once, without
// waiting for stdin (which a client may keep open).
import type { Command } from 'commander';
import type { Duplex } from 'node:stream';
import { ConnectError } from '../../client/index.ts';
import { CliError, type CliContext } from '../context.ts';

export function registerDialStdio(system: Command, ctx: CliContext): void {
  system
    .command('dial-stdio', { hidden: true })
    .description('Proxy the stdio stream to the daemon connection. Should not be invoked manually.')
    .action(async () => {
      let conn: Duplex;
      try {
        conn = await ctx.client().dial();
      } catch (err) {
        if (!(err instanceof ConnectError)) throw err;
        throw new CliError(
          `failed to open the raw stream connection: ${err.message} (dial-stdio connects to -H, DOCKER_HOST or the current context; over ssh, give the far side's socket as ssh://host/path/to/berth.sock or set DOCKER_HOST in the remote environment)`,
        );
      }
      await relay(process.stdin, process.stdout, conn);
    });
}

/** Copies both ways until the daemon's side ends; resolves then, rejects on a connection error. */
export function relay(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  conn: Duplex,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      input.unpipe(conn);
      // stdin may stay open for ever (a client that never half-closes): stop reading it.
      (input as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      if (err) {
        conn.destroy();
        reject(new CliError(`error while copying the daemon connection: ${err.message}`));
        return;
      }
      // Everything the daemon sent must be out before the command ends.
      output.write('', () => resolve());
    };
    // stdin's end becomes a shutdown of the write side (pipe ends conn); reads go on.
    input.pipe(conn);
    conn.pipe(output, { end: false });
    conn.once('end', () => finish());
    conn.once('close', () => finish());
    conn.once('error', (err: NodeJS.ErrnoException) => {
      // The daemon resetting a finished connection is an ordinary end.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish();
      else finish(err);
    });
    output.once('error', (err: Error) => finish(err));
  });
}
