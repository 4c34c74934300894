// `compose up`, `create`, `down`, `build`, `pull`: the model made real (src/compose/convergence.ts)
// with the CLI's pieces: progress lines, attached output (builds: compose-build.ts).
import type { Command } from 'commander';
import {
  buildDependencies,
  ComposeApi,
  ComposeError,
  down,
  imageName,
  type Project,
  selectServices,
  services,
  up,
  waitContainer,
} from '../../compose/index.ts';
import { CliError, collect } from '../context.ts';
import { builderFor } from './compose-build.ts';
import type { ComposeContext } from './compose.ts';
import { followProject } from './compose-logs.ts';

/** Turns model errors into CLI errors (`file:line:col: message`, exit 1). */
export async function composeAction(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ComposeError) throw new CliError(err.describe(), 1);
    throw err;
  }
}

function parseScale(list: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of list) {
    const [k, v] = s.split('=');
    if (!k || v === undefined || !/^\d+$/.test(v))
      throw new CliError(`invalid --scale "${s}": write SERVICE=NUM`, 1);
    m.set(k, Number(v));
  }
  return m;
}

interface UpFlags {
  detach?: boolean;
  build?: boolean;
  noBuild?: boolean;
  pull: string;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  deps: boolean;
  scale: string[];
  wait?: boolean;
  waitTimeout?: string;
  removeOrphans?: boolean;
  abortOnContainerExit?: boolean;
  exitCodeFrom?: string;
  start: boolean;
  quietPull?: boolean;
  timestamps?: boolean;
  color?: boolean;
  logPrefix?: boolean;
  attachDependencies?: boolean;
}

export function registerComposeUp(compose: Command, cc: ComposeContext): void {
  const ctx = cc.cli;
  const progress = (l: string) => ctx.err.write(` ${l}\n`);
  const api = () => new ComposeApi(ctx.client());

  compose
    .command('up')
    .description('Create and start containers')
    .argument('[services...]')
    .option('-d, --detach', 'Detached mode: Run containers in the background')
    .option('--build', 'Build images before starting containers')
    .option('--no-build', "Don't build an image, even if it's policy")
    .option('--pull <policy>', 'Pull image before running ("always"|"missing"|"never")', 'missing')
    .option('--force-recreate', "Recreate containers even if their configuration and image haven't changed")
    .option('--no-recreate', "If containers already exist, don't recreate them")
    .option('--no-deps', "Don't start linked services")
    .option('--no-start', "Don't start the services after creating them")
    .option('--scale <service=num>', 'Scale SERVICE to NUM instances', collect, [])
    .option('--wait', 'Wait for services to be running|healthy. Implies detached mode.')
    .option(
      '--wait-timeout <seconds>',
      'Maximum duration in seconds to wait for the project to be running|healthy',
    )
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option(
      '--abort-on-container-exit',
      'Stops all containers if any container was stopped. Incompatible with -d',
    )
    .option(
      '--exit-code-from <service>',
      'Return the exit code of the selected service container. Implies --abort-on-container-exit',
    )
    .option('--quiet-pull', 'Pull without printing progress information')
    .option('-t, --timeout <seconds>', 'Use this timeout in seconds for container shutdown')
    .option('--timestamps', 'Show timestamps')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--attach-dependencies', 'Automatically attach to log output of dependent services')
    .action((names: string[], o: UpFlags & { timeout?: string }) =>
      composeAction(async () => {
        if (o.build && o.noBuild) throw new CliError('--build and --no-build are incompatible', 1);
        if (o.forceRecreate && o.noRecreate)
          throw new CliError('--force-recreate and --no-recreate are incompatible', 1);
        const detach = o.detach || o.wait;
        const abort = o.abortOnContainerExit || o.exitCodeFrom !== undefined;
        if (detach && abort)
          throw new CliError('--abort-on-container-exit and --detach/--wait are incompatible', 1);
        const p = cc.project(names);
        if (o.exitCodeFrom !== undefined && !Object.hasOwn(services(p), o.exitCodeFrom)) {
          throw new CliError(`no such service: ${o.exitCodeFrom}`, 1);
        }
        const a = api();
        const deadline =
          o.waitTimeout !== undefined ? AbortSignal.timeout(Number(o.waitTimeout) * 1000) : undefined;
        await up(a, p, {
          ...(names.length ? { services: names } : {}),
          build: o.build ? 'always' : o.noBuild ? 'never' : 'missing',
          recreate: o.forceRecreate ? 'force' : o.noRecreate ? 'never' : 'diverged',
          noDeps: !o.deps,
          scale: parseScale(o.scale),
          removeOrphans: o.removeOrphans === true,
          pull: o.pull as 'always' | 'missing' | 'never',
          progress,
          builder: builderFor(ctx, p),
          noStart: !o.start,
          ...(deadline ? { signal: deadline } : {}),
        });
        if (o.wait) {
          const selected = selectServices(p, names, !o.deps);
          const cs = (await a.containers(p.name, { oneoff: false })).filter((c) =>
            selected.includes(c.Labels['com.docker.compose.service'] ?? ''),
          );
          await Promise.all(
            cs.map(async (c) => {
              const n = (c.Names[0] ?? '').replace(/^\//, '');
              progress(`Container ${n}  Waiting`);
              await waitContainer(a, c.Id, 'running', `waiting for ${n}`, deadline);
              progress(`Container ${n}  Healthy`);
            }),
          );
        }
        if (detach || !o.start) return;
        const code = await followProject(ctx, a, p, {
          // `up S` shows S only (its dependencies too with --attach-dependencies); `up` shows all.
          services: names.length
            ? o.attachDependencies
              ? selectServices(p, names, !o.deps)
              : names
            : Object.keys(services(p)),
          follow: true,
          untilExit: true,
          abortOnExit: abort,
          ...(o.exitCodeFrom !== undefined ? { exitCodeFrom: o.exitCodeFrom } : {}),
          color: o.color !== false && cc.colours(),
          prefix: o.logPrefix !== false,
          timestamps: o.timestamps === true,
          ...(o.timeout !== undefined ? { stopTimeout: Number(o.timeout) } : {}),
        });
        if (code !== 0) process.exitCode = code;
      }),
    );

  compose
    .command('create')
    .description('Creates containers for a service')
    .argument('[services...]')
    .option('--build', 'Build images before starting containers')
    .option('--no-build', "Don't build an image, even if it's policy")
    .option('--force-recreate', "Recreate containers even if their configuration and image haven't changed")
    .option('--no-recreate', "If containers already exist, don't recreate them")
    .option('--pull <policy>', 'Pull image before running ("always"|"missing"|"never")', 'missing')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--scale <service=num>', 'Scale SERVICE to NUM instances', collect, [])
    .action((names: string[], o: UpFlags) =>
      composeAction(async () => {
        const p = cc.project(names);
        await up(api(), p, {
          ...(names.length ? { services: names } : {}),
          build: o.build ? 'always' : o.noBuild ? 'never' : 'missing',
          recreate: o.forceRecreate ? 'force' : o.noRecreate ? 'never' : 'diverged',
          scale: parseScale(o.scale),
          removeOrphans: o.removeOrphans === true,
          pull: o.pull as 'always' | 'missing' | 'never',
          progress,
          builder: builderFor(ctx, p),
          noStart: true,
        });
      }),
    );

  compose
    .command('down')
    .description('Stop and remove containers, networks')
    .argument('[services...]')
    .option(
      '-v, --volumes',
      'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers',
    )
    .option(
      '--rmi <type>',
      'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")',
    )
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .action(
      (_names: string[], o: { volumes?: boolean; rmi?: string; removeOrphans?: boolean; timeout?: string }) =>
        composeAction(async () => {
          if (o.rmi !== undefined && o.rmi !== 'local' && o.rmi !== 'all')
            throw new CliError(`invalid --rmi "${o.rmi}": use local or all`, 1);
          // With -p and no files, the project is known by its label alone.
          let p: Project | undefined;
          const nameOnly = cc.projectNameOnly();
          try {
            p = cc.project();
          } catch (err) {
            if (!nameOnly) throw err;
          }
          await down(api(), p?.name ?? nameOnly!, p, {
            ...(o.volumes ? { volumes: true } : {}),
            ...(o.rmi ? { rmi: o.rmi as 'local' | 'all' } : {}),
            removeOrphans: o.removeOrphans === true,
            ...(o.timeout !== undefined ? { timeout: Number(o.timeout) } : {}),
            progress,
          });
        }),
    );

  compose
    .command('build')
    .description('Build or rebuild services')
    .argument('[services...]')
    .option('-q, --quiet', "Don't print anything to STDOUT")
    .action((names: string[], o: { quiet?: boolean }) =>
      composeAction(async () => {
        const p = cc.project(names);
        const all = services(p);
        const targets = (names.length ? names : Object.keys(all)).filter((n) => {
          if (!Object.hasOwn(all, n)) throw new CliError(`no such service: ${n}`, 1);
          return all[n]!.build !== undefined;
        });
        const build = builderFor(ctx, p, o.quiet === true);
        // Every build is checked before the first starts; one that reads another service's
        // image (additional_contexts service:NAME) waits for that build.
        for (const n of targets) build.check?.(n, all[n]!);
        const started = new Map<string, Promise<void>>();
        const one = (n: string): Promise<void> => {
          let t = started.get(n);
          if (!t) {
            const deps = buildDependencies(all[n]!).filter((d) => targets.includes(d));
            t = Promise.all(deps.map(one)).then(() => build(n, all[n]!, imageName(p, n, all[n]!)));
            started.set(n, t);
          }
          return t;
        };
        await Promise.all(targets.map(one));
      }),
    );

  compose
    .command('pull')
    .description('Pull service images')
    .argument('[services...]')
    .option('-q, --quiet', 'Pull without printing progress information')
    .option('--ignore-buildable', 'Ignore images that can be built')
    .action((names: string[], o: { quiet?: boolean; ignoreBuildable?: boolean }) =>
      composeAction(async () => {
        const p = cc.project(names);
        const all = services(p);
        const targets = selectServices(p, names, true).filter(
          (n) => typeof all[n]!.image === 'string' && !(o.ignoreBuildable && all[n]!.build),
        );
        const a = api();
        const refs = new Map<string, string>();
        for (const n of targets) refs.set(String(all[n]!.image), n);
        await Promise.all(
          [...refs].map(async ([ref, n]) => {
            if (!o.quiet) progress(`${n} Pulling`);
            await a.pull(ref);
            if (!o.quiet) progress(`${n} Pulled`);
          }),
        );
      }),
    );
}
