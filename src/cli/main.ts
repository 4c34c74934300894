// The berth command: docker's commands and flags over the Engine API client.
import { Command, CommanderError } from 'commander';
import { BERTH_VERSION } from '../base/version.ts';
import { ConnectError, EngineError } from '../client/index.ts';
import { registerBuild } from './commands/build.ts';
import { registerCompletion } from './commands/completion.ts';
import { registerContainerFs } from './commands/container-fs.ts';
import { registerCompose } from './commands/compose.ts';
import { registerContainers } from './commands/containers.ts';
import { registerContext } from './commands/context.ts';
import { registerEvents } from './commands/events.ts';
import { registerImages } from './commands/images.ts';
import { registerNetworks } from './commands/networks.ts';
import { registerSystem } from './commands/system.ts';
import { registerVolumes } from './commands/volumes.ts';
import { checkIntegerFlags, normaliseBoolFlags } from './argv.ts';
import { CliError, type CliContext, createContext } from './context.ts';
import {
  configDir,
  DEFAULT_CONTEXT,
  type GlobalConnectionOptions,
  resolveConnection,
} from './contexts/index.ts';
import { formatHelp, helpWidth, usageError } from './help/index.ts';
import { ProgressError } from './progress.ts';
import { tlsFromFlags } from './tls-flags.ts';

export async function runCli(argv: readonly string[]): Promise<number> {
  let ctx: CliContext | undefined;
  const program = new Command('berth');
  // docker prints the resolved paths: $DOCKER_CONFIG (else ~/.docker), certs in $DOCKER_CERT_PATH.
  const certDir = process.env.DOCKER_CERT_PATH || configDir(process.env);
  program
    .description('A Docker-compatible container engine')
    .usage('[OPTIONS] COMMAND')
    .option('--config <string>', `Location of client config files (default "${configDir(process.env)}")`)
    .option(
      '-c, --context <string>',
      'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "docker context use")',
    )
    .option('-D, --debug', 'Enable debug mode')
    .option(
      '-H, --host <list>',
      'Daemon socket to connect to (default $BERTH_HOST, $DOCKER_HOST or unix:///run/berth/berth.sock)',
    )
    .option(
      '-l, --log-level <string>',
      'Set the logging level ("debug", "info", "warn", "error", "fatal")',
      'info',
    )
    .option('--tls', 'Use TLS; implied by --tlsverify')
    .option('--tlscacert <string>', `Trust certs signed only by this CA (default "${certDir}/ca.pem")`)
    .option('--tlscert <string>', `Path to TLS certificate file (default "${certDir}/cert.pem")`)
    .option('--tlskey <string>', `Path to TLS key file (default "${certDir}/key.pem")`)
    .option('--tlsverify', 'Use TLS and verify the remote')
    .version(`Berth version ${BERTH_VERSION}`, '-v, --version', 'Print version information and quit')
    .helpOption('-h, --help', 'Print usage')
    // `berth run IMAGE ls -la`: options after the image belong to the command, as with docker.
    .enablePositionalOptions();
  program.hook('preAction', async () => {
    const g = program.opts<GlobalOptions>();
    if (g.config) process.env.DOCKER_CONFIG = g.config;
    try {
      const conn = await resolveConnection(program.opts<GlobalConnectionOptions>());
      // The TLS flags and env configure the default context (-H / DOCKER_HOST); a stored
      // context carries its own TLS material, as with docker.
      const tls =
        conn.name === DEFAULT_CONTEXT
          ? tlsFromFlags(g, (f) => program.getOptionValueSource(f) === 'cli', process.env)
          : conn.tls;
      ctx = createContext(conn.host, tls ? { tls } : {});
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
  registerCompose(program, lazy);
  registerContext(program, lazy);
  registerCompletion(program, lazy);
  // The command whose parsing failed: docker's errors name it and print its usage line.
  let failed: Command = program;
  for (const c of [program, ...allCommands(program)]) {
    c.exitOverride((err) => {
      failed = c;
      throw err;
    });
    // (A bare group, `berth container`, prints its help on stderr and exits 0, as docker does.)
    c.configureOutput({ outputError: () => {} });
    // run and create use -h for --hostname; their help is --help only, as in docker.
    const hTaken = c.options.some((o) => o.short === '-h');
    c.helpOption(hTaken ? '--help' : '-h, --help', 'Print usage');
    c.helpCommand(false);
    checkIntegerFlags(c);
    c.configureHelp({ formatHelp: (cmd) => formatHelp(cmd, helpWidth(process.stdout)) });
  }

  try {
    await program.parseAsync(normaliseBoolFlags(program, argv), { from: 'user' });
    // `run` and `exec` end with the container's or the exec's status.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return report(err, failed);
  }
}

interface GlobalOptions {
  host?: string;
  config?: string;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

function report(err: unknown, failed: Command): number {
  if (err instanceof CommanderError) {
    if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) return 0;
    const usage = usageError(err, failed);
    process.stderr.write(usage.text);
    return usage.code;
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
