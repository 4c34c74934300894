// `berth build` (also `builder build`, `image build`) and `builder prune`: docker's flags, the
// context packed with .dockerignore applied before it is sent, BuildKit-like progress, and
// `--output` exporting the result's files through the export API.
import { spawn } from 'node:child_process';
import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Command } from 'commander';
import type { JsonMessage } from '../../client/index.ts';
import { contextFromStdin, packBuildContext } from '../build-context.ts';
import { parseBuildContextFlags } from '../named-contexts.ts';
import { runChecks } from '../build-check.ts';
import { type BuildUiEvent, BuildProgress } from '../build-progress.ts';
import { CliError, type CliContext, collect, filtersJson } from '../context.ts';
import { humanSize } from '../format/index.ts';
import {
  addUnsupported,
  CONTENT_TRUST,
  ISOLATION,
  type UnsupportedFlag,
  unsupportedOption,
} from './unsupported.ts';

/** Resource limits of docker's legacy builder for RUN steps; berthd's build does not apply them. */
const BUILD_RESOURCE_FLAGS: UnsupportedFlag[] = [
  ['--cgroup-parent <string>', 'Set the parent cgroup for the "RUN" instructions during build'],
  ['--cpu-period <int>', 'Limit the CPU CFS (Completely Fair Scheduler) period'],
  ['--cpu-quota <int>', 'Limit the CPU CFS (Completely Fair Scheduler) quota'],
  ['-c, --cpu-shares <int>', 'CPU shares (relative weight)'],
  ['--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)'],
  ['--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)'],
  ['-m, --memory <bytes>', 'Memory limit'],
  ['--memory-swap <bytes>', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap'],
].map(([flags, description]) => ({
  flags: flags!,
  description: description!,
  reason: 'berthd runs RUN steps without per-build resource limits',
}));

interface BuildOptions {
  file?: string;
  tag: string[];
  buildArg: string[];
  label: string[];
  target?: string;
  cache: boolean;
  /** `--no-cache-filter` (commander names it after the negated form). */
  cacheFilter: string[];
  pull?: boolean;
  network?: string;
  addHost: string[];
  shmSize?: string;
  ulimit: string[];
  iidfile?: string;
  quiet?: boolean;
  output: string[];
  platform?: string;
  cacheFrom: string[];
  compress?: boolean;
  progress: string;
  secret: string[];
  buildContext: string[];
  check?: boolean;
}

function keyValues(list: readonly string[], what: string, fromEnv: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new CliError(`invalid ${what} "${kv}": use KEY=VALUE`, 125);
    if (eq === -1) {
      // `--build-arg NAME` takes the value from the environment, as docker does.
      if (fromEnv) out[kv] = process.env[kv] ?? null;
      else out[kv] = '';
    } else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(v.trim());
  if (!m) throw new CliError(`invalid size "${v}": use a number with an optional unit (k, m, g)`, 125);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  return Math.round(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}

function parseUlimit(v: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw new CliError(`invalid ulimit "${v}": use name=soft[:hard], e.g. nofile=1024:2048`, 125);
  return { Name: m[1]!, Soft: Number(m[2]), Hard: Number(m[3] ?? m[2]) };
}

function parseOutput(v: string): { type: 'local' | 'tar'; dest: string } {
  if (!v.includes('=')) return { type: 'local', dest: v };
  const o = Object.fromEntries(v.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const type = o.type ?? 'local';
  if (type !== 'local' && type !== 'tar') {
    throw new CliError(
      `unsupported --output type "${type}": Berth exports type=local,dest=DIR or type=tar,dest=FILE`,
      125,
    );
  }
  if (!o.dest) throw new CliError('--output needs dest=<path> (or dest=- for a tar on stdout)', 125);
  return { type, dest: o.dest };
}

async function exportImage(
  ctx: CliContext,
  imageId: string,
  out: { type: 'local' | 'tar'; dest: string },
): Promise<void> {
  const client = ctx.client();
  const created = await client.json<{ Id: string }>('POST', '/containers/create', {
    body: { Image: imageId, Cmd: ['/'], Entrypoint: [''] },
  });
  try {
    const res = await client.raw('GET', `/containers/${created.Id}/export`);
    if (out.type === 'tar') {
      await pipeline(res, out.dest === '-' ? ctx.out : createWriteStream(out.dest));
      return;
    }
    await fsp.mkdir(out.dest, { recursive: true });
    const tar = spawn('tar', ['-x', '-C', out.dest, '--no-same-owner'], {
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    const done = new Promise<void>((resolve, reject) => {
      tar.on('error', reject);
      tar.on('close', (code) =>
        code === 0
          ? resolve()
          : reject(new CliError(`extracting into ${out.dest} failed (tar exit ${code})`)),
      );
    });
    await pipeline(res, tar.stdin);
    await done;
  } finally {
    await client.raw('DELETE', `/containers/${created.Id}`, { query: { force: '1' } }).catch(() => {});
  }
}

export function registerBuild(program: Command, ctx: CliContext): void {
  const build = async (contextArg: string, o: BuildOptions) => {
    if (o.check) {
      return runChecks(ctx, contextArg, o.file);
    }
    const mode = o.quiet ? 'quiet' : (o.progress as 'auto' | 'plain' | 'tty' | 'quiet');
    if (!['auto', 'plain', 'tty', 'quiet'].includes(mode)) {
      throw new CliError(`invalid --progress "${o.progress}": use auto, plain, tty or quiet`, 125);
    }
    const outputs = o.output.map(parseOutput);
    let body: NodeJS.ReadableStream;
    let dockerfile: string;
    let namedContexts: string | undefined;
    if (contextArg === '-') {
      if (o.buildContext.length > 0)
        throw new CliError('--build-context needs a context directory, not a context on stdin', 125);
      if (o.file === '-') {
        throw new CliError("invalid argument: can't use stdin for both build context and dockerfile", 125);
      }
      const c = await contextFromStdin(ctx.stdin);
      body = c.stream;
      // -f names a file inside a context tar; a Dockerfile alone on stdin is always `Dockerfile`.
      dockerfile = c.archive ? (o.file ?? c.dockerfileInContext) : c.dockerfileInContext;
    } else {
      let dockerfileContent: Buffer | undefined;
      if (o.file === '-') {
        const chunks: Buffer[] = [];
        for await (const c of ctx.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
        dockerfileContent = Buffer.concat(chunks);
      }
      // docker resolves -f against the current directory, not the context.
      const file = o.file === undefined || o.file === '-' ? '' : path.resolve(o.file);
      const packed = packBuildContext(contextArg, file, {
        ...(dockerfileContent ? { dockerfileContent } : {}),
        namedContexts: parseBuildContextFlags(o.buildContext),
      });
      body = packed.stream;
      dockerfile = packed.dockerfileInContext;
      namedContexts = packed.namedContexts;
    }
    const secrets = o.secret.map((s) => {
      const kv = Object.fromEntries(s.split(',').map((p) => p.split('=', 2) as [string, string]));
      const id = kv.id;
      const src = kv.src ?? kv.source;
      if (!id || !src) throw new CliError(`invalid --secret "${s}": use id=NAME,src=FILE`, 125);
      return `id=${id},src=${path.resolve(src)}`;
    });
    const query: Record<string, string | string[] | undefined> = {
      dockerfile,
      t: o.tag,
      buildargs: JSON.stringify(keyValues(o.buildArg, 'build arg', true)),
      labels: JSON.stringify(keyValues(o.label, 'label', false)),
      target: o.target,
      nocache: o.cache ? undefined : '1',
      nocachefilter: o.cacheFilter.length > 0 ? o.cacheFilter.join(',') : undefined,
      pull: o.pull ? '1' : undefined,
      networkmode: o.network,
      extrahosts: o.addHost.length > 0 ? o.addHost.join(',') : undefined,
      shmsize: o.shmSize ? String(parseSize(o.shmSize)) : undefined,
      ulimits: o.ulimit.length > 0 ? JSON.stringify(o.ulimit.map(parseUlimit)) : undefined,
      platform: o.platform,
      cachefrom: o.cacheFrom.length > 0 ? JSON.stringify(o.cacheFrom) : undefined,
      secrets,
      namedcontexts: namedContexts,
      berthprogress: '1',
      q: o.quiet ? '1' : undefined,
    };
    // Progress goes to stderr (as BuildKit's), so stdout carries only what -q prints.
    const ui = new BuildProgress(ctx.err, mode);
    let imageId: string | undefined;
    try {
      const messages = ctx
        .client()
        .jsonLines<JsonMessage & { errorDetail?: { code?: number; message: string } }>('POST', '/build', {
          stream: o.compress
            ? (body as import('node:stream').Readable).pipe(createGzip())
            : (body as import('node:stream').Readable),
          query,
          headers: { 'Content-Type': 'application/x-tar' },
        });
      for await (const m of messages) {
        if (m.errorDetail || m.error) {
          const msg = m.errorDetail?.message ?? m.error ?? 'build failed';
          ui.finish(msg);
          throw new CliError(
            `ERROR: ${msg}`,
            m.errorDetail?.code && m.errorDetail.code > 0 ? m.errorDetail.code : 1,
          );
        }
        const aux = m.aux as { berth?: BuildUiEvent; ID?: string } | undefined;
        if (aux?.berth) ui.event(aux.berth);
        else if (aux?.ID) imageId = aux.ID;
      }
    } catch (err) {
      ui.finish(String(err));
      throw err;
    }
    ui.finish();
    if (!imageId) throw new CliError('the daemon finished the build without an image ID', 1);
    if (o.iidfile) await fsp.writeFile(o.iidfile, imageId);
    for (const out of outputs) await exportImage(ctx, imageId, out);
    if (o.quiet) ctx.out.write(`${imageId}\n`);
    else {
      ctx.err.write(`writing image ${imageId}\n`);
      for (const t of o.tag) ctx.err.write(`naming to ${t}\n`);
    }
  };
  const addBuildOptions = (c: Command) =>
    c
      .description('Build an image from a Dockerfile')
      .argument('<PATH|->', 'Build context directory, or - for a tar/Dockerfile on stdin')
      .option('-f, --file <string>', 'Name of the Dockerfile (default: "PATH/Dockerfile")')
      .option('-t, --tag <name:tag>', 'Name and optionally a tag (repeatable)', collect, [])
      .option('--build-arg <KEY=VALUE>', 'Set build-time variables', collect, [])
      .option('--label <KEY=VALUE>', 'Set metadata for an image', collect, [])
      .option('--target <stage>', 'Set the target build stage to build')
      .option('--no-cache', 'Do not use cache when building the image')
      .option('--no-cache-filter <stage>', 'Do not cache specified stages', collect, [])
      .option('--pull', 'Always attempt to pull a newer version of the image')
      .option('--network <string>', 'Set the networking mode for the RUN instructions during build')
      .option('--add-host <host:ip>', 'Add a custom host-to-IP mapping', collect, [])
      .option('--shm-size <bytes>', 'Size of /dev/shm')
      .option('--ulimit <ulimit>', 'Ulimit options', collect, [])
      .option('--iidfile <file>', 'Write the image ID to the file')
      .option('-q, --quiet', 'Suppress the build output and print image ID on success')
      .option(
        '-o, --output <spec>',
        'Output destination (type=local,dest=DIR or type=tar,dest=FILE)',
        collect,
        [],
      )
      .option('--platform <string>', 'Set target platform for build (the host platform only)')
      .option('--progress <type>', 'Set type of progress output (auto, plain, tty, quiet)', 'auto')
      .option(
        '--build-context <name=value>',
        'Additional build contexts (e.g., name=path or name=docker-image://ref)',
        collect,
        [],
      )
      .option('--secret <spec>', 'Secret to expose to the build (id=mysecret,src=/local/secret)', collect, [])
      .option('--check', 'Check the Dockerfile for problems without building')
      .option('--rm', 'Accepted for docker compatibility (intermediate containers are always removed)')
      .option('--force-rm', 'Accepted for docker compatibility')
      .option('--cache-from <list>', 'Images to consider as cache sources', collect, [])
      .option('--compress', 'Compress the build context using gzip');
  const addBuildFlags = (c: Command) =>
    addUnsupported(addBuildOptions(c), [
      ...BUILD_RESOURCE_FLAGS,
      ISOLATION,
      CONTENT_TRUST,
      {
        flags: '--security-opt <list>',
        description: 'Security options',
        reason: 'RUN steps run with the default security profile only',
        list: true,
      },
      {
        flags: '--squash',
        description: 'Squash newly built layers into a single new layer (EXPERIMENTAL)',
        reason: "it is an experimental feature of docker's legacy builder",
      },
    ]).action(build);
  addBuildFlags(program.command('build'));
  const builder = program.command('builder').description('Manage builds');
  addBuildFlags(builder.command('build'));
  const image = program.commands.find((c) => c.name() === 'image');
  if (image) addBuildFlags(image.command('build'));
  builder
    .command('prune')
    .description('Remove build cache')
    .option('-a, --all', 'Remove all unused build cache, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=24h")', collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .addOption(
      unsupportedOption({
        flags: '--keep-storage <bytes>',
        description: 'Amount of disk space to keep for cache',
        reason: "berthd's build-cache prune has no size budget (keep-storage); use --filter until=DURATION",
        accept: (v) => v === '0',
      }),
    )
    .action(async (o: { all?: boolean; filter: string[] }) => {
      const r = await ctx
        .client()
        .json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', {
          query: { all: o.all ? '1' : undefined, filters: filtersJson(o.filter) },
        });
      if ((r.CachesDeleted ?? []).length > 0) {
        ctx.out.write('Deleted build cache objects:\n');
        for (const id of r.CachesDeleted ?? []) ctx.out.write(`${id}\n`);
        ctx.out.write('\n');
      }
      ctx.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed, 4)}\n`);
    });
}
