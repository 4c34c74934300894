// `compose up`, `create`, `down`, `build`, `pull`: the model made real (src/compose/convergence.ts)
// with the CLI's pieces: packing build contexts, progress lines, attached output.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { JsonMessage } from '../../client/index.ts';
import {
  ComposeApi,
  ComposeError,
  down,
  type ImageBuilder,
  type Project,
  type Service,
  selectServices,
  services,
  up,
  waitContainer,
} from '../../compose/index.ts';
import { packBuildContext } from '../build-context.ts';
import { CliError, type CliContext, collect } from '../context.ts';
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

export function builderFor(ctx: CliContext, p: Project, quiet = false): ImageBuilder {
  return async (name: string, svc: Service, tag: string) => {
    const b = svc.build as Record<string, unknown>;
    const dockerfile = typeof b.dockerfile === 'string' ? path.resolve(String(b.context), b.dockerfile) : '';
    refuseBuildOptions(name, b);
    const secrets = buildSecrets(p, name, b);
    const packed = packBuildContext(String(b.context), dockerfile);
    const args = (b.args ?? {}) as Record<string, string | null>;
    const query: Record<string, string | string[] | undefined> = {
      dockerfile: packed.dockerfileInContext,
      t: [tag, ...((b.tags as string[] | undefined) ?? [])],
      buildargs: JSON.stringify(Object.fromEntries(Object.entries(args).filter(([, v]) => v !== null))),
      labels: JSON.stringify({
        ...((b.labels as object | undefined) ?? {}),
        'com.docker.compose.project': p.name,
        'com.docker.compose.service': name,
      }),
      target: typeof b.target === 'string' ? b.target : undefined,
      networkmode: typeof b.network === 'string' ? b.network : undefined,
      cachefrom: Array.isArray(b.cache_from) ? JSON.stringify(b.cache_from) : undefined,
      extrahosts: Array.isArray(b.extra_hosts)
        ? (b.extra_hosts as string[]).map((h) => h.replace('=', ':')).join(',')
        : undefined,
      nocache: b.no_cache ? '1' : undefined,
      pull: b.pull ? '1' : undefined,
      secrets: secrets.params.length ? secrets.params : undefined,
    };
    if (!quiet) ctx.err.write(`[+] Building ${name}\n`);
    const messages = ctx.client().jsonLines<JsonMessage>('POST', '/build', {
      stream: packed.stream as Readable,
      query,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    try {
      for await (const m of messages) {
        if (m.errorDetail || m.error) {
          throw new ComposeError(`service "${name}" failed to build: ${m.errorDetail?.message ?? m.error}`);
        }
      }
    } finally {
      secrets.cleanup();
    }
    if (!quiet) ctx.err.write(`[+] Built ${name} as ${tag}\n`);
  };
}

/** Build options Berth's builder cannot honour: refused before anything is sent, naming the fix. */
function refuseBuildOptions(name: string, b: Record<string, unknown>): void {
  const has = (v: unknown) =>
    v !== undefined && v !== null && (typeof v !== 'object' || Object.keys(v).length > 0);
  if (has(b.ssh))
    throw new ComposeError(
      `service "${name}": build.ssh is not supported: Berth's builder has no SSH agent forwarding (RUN --mount=type=ssh); pass keys with build.secrets instead`,
    );
  if (has(b.additional_contexts))
    throw new ComposeError(
      `service "${name}": build.additional_contexts is not supported: Berth's builder has no named build contexts yet; copy the files into the main context or use a multi-stage build`,
    );
}

/**
 * build.secrets → the builder's `secrets=id=ID,src=FILE` (the id is the entry's target, else its
 * source, as v2 passes them to BuildKit). Secrets from `environment:` go through a private temp
 * file (0600) removed after the build; the daemon reads the file, so this needs a local daemon.
 */
function buildSecrets(
  p: Project,
  name: string,
  b: Record<string, unknown>,
): { params: string[]; cleanup: () => void } {
  const top = (p.model.secrets ?? {}) as Record<string, Record<string, unknown>>;
  const temps: string[] = [];
  const cleanup = () => {
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  };
  const params: string[] = [];
  try {
    for (const e of (b.secrets as unknown[] | undefined) ?? []) {
      const ref = typeof e === 'string' ? { source: e } : (e as { source?: string; target?: string });
      const source = String(ref.source);
      const def = top[source];
      if (!def)
        throw new ComposeError(
          `service "${name}" build.secrets refers to undefined secret ${source}: add it under the top-level "secrets:"`,
        );
      const id = ref.target ?? source;
      if (typeof def.file === 'string') params.push(`id=${id},src=${def.file}`);
      else if (typeof def.environment === 'string') {
        const value = p.variable(def.environment);
        if (value === undefined)
          throw new ComposeError(
            `environment variable "${def.environment}" required by build secret "${source}" of service "${name}" is not set: set it in the shell or in .env`,
          );
        const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-compose-secret-'));
        temps.push(dir);
        const file = path.join(dir, 'secret');
        writeFileSync(file, value, { mode: 0o600 });
        params.push(`id=${id},src=${file}`);
      } else
        throw new ComposeError(
          `service "${name}" build secret "${source}" has neither file: nor environment: (the builder needs one)`,
        );
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  return { params, cleanup };
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
        await Promise.all(
          targets.map((n) =>
            build(n, all[n]!, typeof all[n]!.image === 'string' ? all[n]!.image : `${p.name}-${n}`),
          ),
        );
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
