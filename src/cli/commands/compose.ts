// `berth compose`: the Compose v2 work-alike. The project options (-f, -p, --profile,
// --env-file, --project-directory) belong to `compose`, as in `docker compose -f x up`; each
// subcommand loads the project through src/compose and talks to the engine through the client.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { BERTH_VERSION } from '../../base/version.ts';
import { ComposeError, loadProject, type Project } from '../../compose/index.ts';
import { CliError, type CliContext, collect } from '../context.ts';
import { registerComposeLifecycle } from './compose-lifecycle.ts';
import { registerComposeRun } from './compose-run.ts';
import { registerComposeTools } from './compose-tools.ts';
import { registerComposeUp } from './compose-up.ts';

export interface ComposeGlobals {
  file: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile: string[];
  profile: string[];
}

/** What every compose subcommand gets: the CLI context and a loader for the project. */
export interface ComposeContext {
  readonly cli: CliContext;
  /** Loads the project; `services` named on the command line enable their profiles. */
  project(services?: readonly string[]): Project;
  /** The project name alone (down/ps/logs work without the files when -p is given). */
  projectNameOnly(): string | undefined;
  /** Whether output may carry colours: --ansi always, or auto on a terminal (v2's rule). */
  colours(): boolean;
}

export function registerCompose(program: Command, ctx: CliContext): void {
  const compose = program
    .command('compose')
    .description('Define and run multi-container applications (Compose v2 work-alike)')
    .usage('[OPTIONS] COMMAND')
    .option('-f, --file <file>', 'Compose configuration files', collect, [])
    .option('-p, --project-name <name>', 'Project name')
    .option(
      '--project-directory <dir>',
      'Specify an alternate working directory (default: the folder of the first file)',
    )
    .option('--env-file <file>', 'Specify an alternate environment file', collect, [])
    .option('--profile <profile>', 'Specify a profile to enable', collect, [])
    .option(
      '--ansi <mode>',
      'Control when to print ANSI control characters ("never"|"always"|"auto")',
      'auto',
    )
    .option('--progress <mode>', 'Set type of progress output (auto, tty, plain, json, quiet)', 'auto')
    .option('--parallel <n>', 'Control max parallelism, -1 for unlimited', '-1')
    .enablePositionalOptions();
  const globals = () => compose.opts<ComposeGlobals>();
  const cc: ComposeContext = {
    cli: ctx,
    project: (services) => {
      const g = globals();
      try {
        return loadProject({
          cwd: process.cwd(),
          env: process.env,
          files: g.file,
          ...(g.projectName !== undefined ? { projectName: g.projectName } : {}),
          ...(g.projectDirectory !== undefined ? { projectDirectory: g.projectDirectory } : {}),
          envFiles: g.envFile,
          profiles: g.profile,
          ...(services ? { services } : {}),
          onWarning: (m) => ctx.err.write(`WARN[0000] ${m}\n`),
        });
      } catch (err) {
        if (err instanceof ComposeError) throw new CliError(err.describe(), 1);
        throw err;
      }
    },
    projectNameOnly: () => globals().projectName ?? process.env.COMPOSE_PROJECT_NAME,
    colours: () => {
      const mode = (globals() as { ansi?: string }).ansi ?? 'auto';
      if (!['auto', 'always', 'never'].includes(mode))
        throw new CliError(`invalid --ansi "${mode}": use auto, always or never`, 1);
      return mode === 'always' || (mode === 'auto' && process.stdout.isTTY === true);
    },
  };

  compose
    .command('config')
    .description('Parse, resolve and render compose file in canonical format')
    .argument('[services...]', 'Services to show')
    .option('--format <format>', 'Format the output. Values: [yaml | json]', 'yaml')
    .option('--services', 'Print the service names, one per line')
    .option('--volumes', 'Print the volume names, one per line')
    .option('--networks', 'Print the network names, one per line')
    .option('--profiles', 'Print the profile names, one per line')
    .option('--images', 'Print the image names, one per line')
    .option('-q, --quiet', 'Only validate the configuration, don\u2019t print anything')
    .option('-o, --output <path>', 'Save to file (default to stdout)')
    .action(async (services: string[], o: ConfigOptions) => {
      const p = cc.project(services);
      ctx.out.write(renderConfig(p, services, o));
    });

  // The docker CLI plugin protocol: `docker compose …` runs the plugin with
  // `docker-cli-plugin-metadata` once to learn what it is (bin/berth-compose-plugin forwards).
  compose
    .command('docker-cli-plugin-metadata', { hidden: true })
    .description('Docker CLI plugin metadata')
    .action(() => {
      ctx.out.write(
        `${JSON.stringify({ SchemaVersion: '0.1.0', Vendor: 'Berth', Version: `v${BERTH_VERSION}`, ShortDescription: 'Docker Compose (Berth)' }, null, 2)}\n`,
      );
    });

  registerComposeUp(compose, cc);
  registerComposeLifecycle(compose, cc);
  registerComposeRun(compose, cc);
  registerComposeTools(compose, cc);
}

interface ConfigOptions {
  format: string;
  services?: boolean;
  volumes?: boolean;
  networks?: boolean;
  profiles?: boolean;
  images?: boolean;
  quiet?: boolean;
}

function renderConfig(p: Project, only: readonly string[], o: ConfigOptions): string {
  const services = p.model.services as Record<string, Record<string, unknown>>;
  for (const s of only) {
    if (!Object.hasOwn(services, s)) throw new CliError(`no such service: ${s}`, 1);
  }
  const lines = (l: readonly string[]) => l.map((x) => `${x}\n`).join('');
  if (o.quiet) return '';
  if (o.services) return lines(Object.keys(services));
  if (o.volumes) return lines(Object.keys((p.model.volumes as object | undefined) ?? {}));
  if (o.networks) return lines(Object.keys((p.model.networks as object | undefined) ?? {}));
  if (o.profiles) return lines(p.allProfiles);
  if (o.images) return lines(Object.entries(services).map(([n, s]) => String(s.image ?? `${p.name}-${n}`)));
  let model = p.model;
  if (only.length) {
    const picked: Record<string, unknown> = {};
    for (const s of only) picked[s] = services[s];
    model = { ...model, services: picked };
  }
  if (o.format === 'json') return `${JSON.stringify(model, null, 2)}\n`;
  if (o.format !== 'yaml') throw new CliError(`unsupported format "${o.format}": use yaml or json`, 1);
  return stringify(model, { lineWidth: 0, aliasDuplicateObjects: false });
}
