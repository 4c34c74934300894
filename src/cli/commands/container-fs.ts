// Container filesystem commands: cp, diff, export, commit. `cp` follows docker cp's rules
// (cli/command/container/cp.go and pkg/archive's copy rules): the side that receives the
// archive decides where it is extracted and what its top entry is renamed to.
import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type * as Archive from '../../archive/index.ts';
import { EngineError } from '../../client/index.ts';
import { CliError, type CliContext, collect } from '../context.ts';
import { humanSize } from '../format/index.ts';

/** The tar code is loaded only by `cp`, keeping every other command's start-up small. */
function archive(): Promise<typeof Archive> {
  return import('../../archive/index.ts');
}

/** Docker's ContainerPathStat, from the `X-Docker-Container-Path-Stat` header. */
interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const hasBit = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;
const isDir = (mode: number) => hasBit(mode, GO_DIR);
const isSymlink = (mode: number) => hasBit(mode, GO_SYMLINK);
/** Go's ModeType bits other than dir and symlink: device, pipe, socket, char device, irregular. */
const isSpecial = (mode: number) =>
  [2 ** 26, 2 ** 25, 2 ** 24, 2 ** 21, 2 ** 19].some((b) => hasBit(mode, b));

/** docker's splitCpArg: `ctr:path`, or a local path (absolute, `./x:y`, or without a colon). */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/')) return { path: arg };
  const i = arg.indexOf(':');
  if (i === -1 || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** Whether a path says "a directory" by itself (`dir/` or `dir/.`). */
export function assertsDirectory(p: string): boolean {
  return p.endsWith('/') || p.endsWith('/.') || p === '.';
}

/** The last element, `.` kept for `dir/.` (pkg/archive SplitPathDirEntry). */
export function baseOfCpPath(p: string): string {
  if (p.endsWith('/.') || p === '.') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function dirOfCpPath(p: string): string {
  const trimmed = p.endsWith('/.') ? p.slice(0, -2) : p.replace(/\/+$/, '');
  return path.posix.dirname(trimmed === '' ? '/' : trimmed);
}

export interface CopyPlan {
  /** Directory the archive is extracted into. */
  readonly dir: string;
  /** What the archive's top entry is renamed to; undefined: keep its name. */
  readonly rename?: string;
}

/**
 * docker cp's decision (pkg/archive PrepareArchiveCopy): where to extract an archive whose top
 * entry is `srcBase`, given what is at the destination.
 */
export function planCopy(
  src: { isDir: boolean },
  dst: { path: string; exists: boolean; isDir: boolean },
): CopyPlan {
  const dstBase = baseOfCpPath(dst.path);
  if (dst.exists && dst.isDir) return { dir: dst.path };
  if (dst.exists) {
    if (src.isDir)
      throw new CliError('cannot copy a directory to a file: the destination exists and is not a directory');
    return { dir: dirOfCpPath(dst.path), rename: dstBase };
  }
  if (src.isDir) return { dir: dirOfCpPath(dst.path), rename: dstBase };
  if (assertsDirectory(dst.path))
    throw new CliError(`destination directory ${dst.path} does not exist: create it first`);
  return { dir: dirOfCpPath(dst.path), rename: dstBase };
}

async function statContainer(ctx: CliContext, ctr: string, p: string): Promise<PathStat | undefined> {
  try {
    const res = await ctx
      .client()
      .raw('HEAD', `/containers/${encodeURIComponent(ctr)}/archive`, { query: { path: p } });
    res.resume();
    return decodeStat(res.headers['x-docker-container-path-stat']);
  } catch (err) {
    if (err instanceof EngineError && err.status === 404) return undefined;
    throw err;
  }
}

function decodeStat(h: string | undefined): PathStat {
  if (!h) throw new CliError('the daemon sent no X-Docker-Container-Path-Stat header');
  return JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as PathStat;
}

export interface CpOptions {
  archive?: boolean;
  followLink?: boolean;
  quiet?: boolean;
}

export async function copyFromContainer(
  ctx: CliContext,
  ctr: string,
  src: string,
  dst: string,
  o: CpOptions,
) {
  const get = async (p: string) => {
    const res = await ctx
      .client()
      .raw('GET', `/containers/${encodeURIComponent(ctr)}/archive`, { query: { path: p } });
    return { stat: decodeStat(res.headers['x-docker-container-path-stat']), tar: res as Readable };
  };
  let { stat, tar } = await get(src);
  let srcBase = baseOfCpPath(src);
  let rebaseTo: string | undefined;
  if (o.followLink && isSymlink(stat.mode)) {
    // -L: copy what the link points to, named like the link.
    tar.resume();
    const target = stat.linkTarget;
    ({ stat, tar } = await get(target));
    rebaseTo = srcBase;
    srcBase = baseOfCpPath(target);
  }
  if (dst === '-') {
    await pipeline(tar, ctx.out);
    return;
  }
  let dstPath = path.resolve(dst) + (assertsDirectory(dst) ? '/' : '');
  const lst = await fsp.lstat(dstPath).catch(() => undefined);
  let dstStat = lst;
  if (lst?.isSymbolicLink()) {
    dstPath = await fsp.realpath(dstPath);
    dstStat = await fsp.stat(dstPath);
  }
  const plan = planCopy(
    { isDir: isDir(stat.mode) },
    { path: dstPath, exists: dstStat !== undefined, isDir: dstStat?.isDirectory() ?? false },
  );
  const dirStat = await fsp.stat(plan.dir).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    tar.resume();
    throw new CliError(`destination directory ${plan.dir} does not exist: create it first`);
  }
  const to = plan.rename ?? rebaseTo;
  const { applyLayer, rebaseName } = await archive();
  await applyLayer(tar, plan.dir, {
    whiteouts: false,
    owner: o.archive ? 'keep' : 'none',
    noOverwriteDirNonDir: true,
    // Names of `/` come absolute (`/bin`); extraction is always below plan.dir.
    rename: (n) => {
      const r = to === undefined ? n : rebaseName(n, srcBase === '/' ? '' : srcBase, to);
      return r.replace(/^\/+/, '') || './';
    },
  });
  if (!o.quiet && ctx.err.isTTY) ctx.err.write(`Successfully copied ${humanSize(stat.size)} to ${dst}\n`);
}

export async function copyToContainer(ctx: CliContext, src: string, ctr: string, dst: string, o: CpOptions) {
  let dstPath = dst;
  let st = await statContainer(ctx, ctr, dstPath);
  if (st && isSymlink(st.mode)) {
    dstPath = st.linkTarget;
    st = await statContainer(ctx, ctr, dstPath);
  }
  if (st && isSpecial(st.mode))
    throw new CliError(`destination "${ctr}:${dst}" must be a directory or a regular file`);
  const put = (dir: string, body: Readable) =>
    ctx.client().raw('PUT', `/containers/${encodeURIComponent(ctr)}/archive`, {
      query: { path: dir, noOverwriteDirNonDir: true, copyUIDGID: Boolean(o.archive) },
      stream: body,
    });
  if (src === '-') {
    if (!st || !isDir(st.mode)) throw new CliError(`destination "${ctr}:${dst}" must be a directory`);
    (await put(dstPath, ctx.stdin)).resume();
    return;
  }
  // The source: its parent's symlinks resolved; the last element too with -L.
  const abs = path.resolve(src);
  const contents = assertsDirectory(src) && src.endsWith('.');
  let real = contents
    ? await fsp.realpath(abs)
    : path.join(await fsp.realpath(path.dirname(abs)), path.basename(abs));
  if (o.followLink) real = await fsp.realpath(real);
  const lst = await fsp.lstat(real).catch(() => undefined);
  if (!lst) throw new CliError(`lstat ${abs}: no such file or directory`);
  const srcBase = contents ? '.' : path.basename(abs);
  const plan = planCopy(
    { isDir: lst.isDirectory() },
    { path: dstPath, exists: st !== undefined, isDir: st ? isDir(st.mode) : false },
  );
  const { packPath } = await archive();
  const tar = packPath(path.dirname(real), path.basename(real), { rebase: plan.rename ?? srcBase });
  (await put(plan.dir, tar)).resume();
  if (!o.quiet && ctx.err.isTTY) ctx.err.write(`Successfully copied to ${ctr}:${dst}\n`);
}

const KIND = ['C', 'A', 'D'];

export function registerContainerFs(program: Command, ctx: CliContext): void {
  const container = program.commands.find((c) => c.name() === 'container');
  const both = (name: string) => [program.command(name), ...(container ? [container.command(name)] : [])];

  for (const c of both('cp')) {
    c.description('Copy files/folders between a container and the local filesystem')
      .argument('<SRC_PATH>', 'CONTAINER:SRC_PATH, a local path, or - for a tar stream on STDIN')
      .argument('<DEST_PATH>', 'CONTAINER:DEST_PATH, a local path, or - for a tar stream on STDOUT')
      .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
      .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
      .option('-q, --quiet', 'Suppress progress output during copy')
      .action(async (srcArg: string, dstArg: string, o: CpOptions) => {
        const src = splitCpArg(srcArg);
        const dst = splitCpArg(dstArg);
        if (src.container !== undefined && dst.container !== undefined)
          throw new CliError('copying between containers is not supported');
        if (src.container === undefined && dst.container === undefined)
          throw new CliError('must specify at least one container source');
        if (src.container !== undefined) {
          if (src.path === '') throw new CliError('source path cannot be empty');
          await copyFromContainer(ctx, src.container, src.path, dst.path, o);
        } else {
          if (dst.path === '') throw new CliError('destination path cannot be empty');
          await copyToContainer(ctx, src.path, dst.container!, dst.path, o);
        }
      });
  }

  for (const c of both('diff')) {
    c.description("Inspect changes to files or directories on a container's filesystem")
      .argument('<CONTAINER>')
      .action(async (ref: string) => {
        const changes = await ctx
          .client()
          .json<{ Path: string; Kind: number }[] | null>(
            'GET',
            `/containers/${encodeURIComponent(ref)}/changes`,
          );
        ctx.out.write((changes ?? []).map((ch) => `${KIND[ch.Kind] ?? '?'} ${ch.Path}\n`).join(''));
      });
  }

  for (const c of both('export')) {
    c.description("Export a container's filesystem as a tar archive")
      .argument('<CONTAINER>')
      .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
      .action(async (ref: string, o: { output?: string }) => {
        if (!o.output && ctx.out.isTTY)
          throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
        const res = await ctx.client().raw('GET', `/containers/${encodeURIComponent(ref)}/export`);
        if (!o.output) return pipeline(res, ctx.out);
        // A failed export never leaves a truncated file under the requested name.
        const tmp = `${o.output}.berth-tmp-${process.pid}`;
        try {
          await pipeline(res, createWriteStream(tmp));
          await fsp.rename(tmp, o.output);
        } catch (err) {
          await fsp.rm(tmp, { force: true });
          throw err;
        }
      });
  }

  for (const c of both('commit')) {
    c.description("Create a new image from a container's changes")
      .argument('<CONTAINER>')
      .argument('[REPOSITORY[:TAG]]')
      .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
      .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect, [])
      .option('-m, --message <string>', 'Commit message')
      .option('-p, --pause', 'Pause container during commit (default true)', true)
      .option('--no-pause', 'Do not pause the container during commit')
      .action(
        async (
          ref: string,
          reference: string | undefined,
          o: { author?: string; change: string[]; message?: string; pause: boolean },
        ) => {
          let repo: string | undefined;
          let tag: string | undefined;
          if (reference) {
            const at = reference.lastIndexOf(':');
            [repo, tag] =
              at > reference.lastIndexOf('/')
                ? [reference.slice(0, at), reference.slice(at + 1)]
                : [reference, undefined];
          }
          const r = await ctx.client().json<{ Id: string }>('POST', '/commit', {
            query: {
              container: ref,
              repo,
              tag,
              comment: o.message,
              author: o.author,
              pause: o.pause,
              changes: o.change,
            },
            body: {},
          });
          ctx.out.write(`${r.Id}\n`);
        },
      );
  }
}
