// The berth command: docker's commands and flags over the Engine API client.
import { Command, CommanderError } from 'commander';
import { BERTH_VERSION } from '../base/version.ts';
import { ConnectError, EngineError } from '../client/index.ts';
import { registerBuild } from './commands/build.ts';
import { registerCompletion } from './commands/completion.ts';
import { registerContainerFs } from './commands/container-fs.ts';
import { registerContainers } from './commands/containers.ts';
import { registerContext } from './commands/context.ts';
import { registerEvents } from './commands/events.ts';
import { registerImages } from './commands/images.ts';
import { registerNetworks } from './commands/networks.ts';
import { registerSystem } from './commands/system.ts';
import { registerVolumes } from './commands/volumes.ts';
import { CliError, type CliContext, createContext } from './context.ts';
import { type GlobalConnectionOptions, resolveConnection } from './contexts/index.ts';
import { ProgressError } from './progress.ts';

export async function runCli(argv: readonly string[]): Promise<number> {
  let ctx: CliContext | undefined;
  const program = new Command('berth');
  program
    .description('A Docker-compatible container engine')
    .usage('[OPTIONS] COMMAND')
    .option(
      '-H, --host <string>',
      'Daemon socket to connect to (default $BERTH_HOST, $DOCKER_HOST or unix:///run/berth/berth.sock)',
    )
    .option(
      '-l, --log-level <string>',
      'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")',
      'info',
    )
    .option('-D, --debug', 'Enable debug mode')
    .option(
      '-c, --context <string>',
      'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "docker context use")',
    )
    .version(`Berth version ${BERTH_VERSION}`, '-v, --version', 'Print version information and quit')
    .helpOption('-h, --help', 'Print usage')
    .showSuggestionAfterError(true)
    // `berth run IMAGE ls -la`: options after the image belong to the command, as with docker.
    .enablePositionalOptions()
    .configureOutput({ outputError: () => {} })
    .exitOverride();
  program.hook('preAction', async () => {
    try {
      ctx = createContext((await resolveConnection(program.opts<GlobalConnectionOptions>())).host);
    } catch (err) {
      // A broken current context fails the commands that talk to a daemon, not `context ls/use`.
      ctx = {
        ...createContext(''),
        client: () => {
          throw err;
        },
      };
    }
  });
  const lazy: CliContext = {
    client: () => ctx!.client(),
    get out() {
      return process.stdout;
    },
    get err() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
  };
  registerSystem(program, lazy);
  registerImages(program, lazy);
  registerBuild(program, lazy);
  registerContainers(program, lazy);
  registerContainerFs(program, lazy);
  registerEvents(program, lazy);
  registerNetworks(program, lazy);
  registerVolumes(program, lazy);
  registerContext(program, lazy);
  registerCompletion(program, lazy);
  for (const c of allCommands(program)) {
    c.exitOverride().configureOutput({ outputError: () => {} });
    c.helpOption('-h, --help', 'Print usage');
  }

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    // `run` and `exec` end with the container's or the exec's status.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return report(err, program);
  }
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

function commandPath(program: Command, err: CommanderError): string {
  void err;
  return program.name();
}

function report(err: unknown, program: Command): number {
  if (err instanceof CommanderError) {
    if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) return 0;
    const msg = err.message.replace(/^error: /, '');
    if (err.code === 'commander.unknownOption') {
      const flag = /'([^']+)'/.exec(msg)?.[1] ?? msg;
      process.stderr.write(`unknown flag: ${flag}\nSee '${commandPath(program, err)} --help'.\n`);
    } else if (err.code === 'commander.unknownCommand') {
      const cmd = /'([^']+)'/.exec(msg)?.[1] ?? '';
      process.stderr.write(`berth: '${cmd}' is not a berth command.\nSee 'berth --help'\n`);
    } else {
      process.stderr.write(`berth: ${msg}\nSee 'berth --help'.\n`);
    }
    return 125;
  }
  if (err instanceof ConnectError) {
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  if (err instanceof EngineError) {
    process.stderr.write(`Error response from daemon: ${err.message}\n`);
    return err.status === 400 && /flag|argument/.test(err.message) ? 125 : 1;
  }
  if (err instanceof CliError || err instanceof ProgressError) {
    if (err.message) process.stderr.write(`${err.message}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
  process.stderr.write(`berth: ${(err as Error)?.message ?? String(err)}\n`);
  return 1;
}
