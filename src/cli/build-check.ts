// `berth build --check`: reads the Dockerfile and measures the context locally, runs the checker
// and prints findings the way BuildKit's check does. It never contacts the daemon.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { checkDockerfile, type Finding, LARGE_CONTEXT_BYTES } from '../build/check/index.ts';
import { IgnoreMatcher, loadDockerignore } from '../build/context/index.ts';
import { CliError, type CliContext } from './context.ts';

/** Walking a huge tree just to say "it is large" is pointless: stop once the answer is known. */
const MAX_WALK_ENTRIES = 200_000;

/** Bytes of regular files under `dir` (symlinks not followed), stopping at `limit` bytes or the entry cap. */
export async function contextSize(dir: string, limit: number): Promise<number> {
  let total = 0;
  let entries = 0;
  const stack = [dir];
  while (stack.length > 0 && total < limit && entries < MAX_WALK_ENTRIES) {
    const d = stack.pop()!;
    let list: import('node:fs').Dirent[];
    try {
      list = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      continue; // unreadable directories are the build's problem, not the check's
    }
    for (const e of list) {
      entries++;
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        try {
          total += (await fsp.lstat(p)).size;
        } catch {
          // vanished while walking
        }
      }
      if (total >= limit || entries >= MAX_WALK_ENTRIES) break;
    }
  }
  return total;
}

async function readStdin(ctx: CliContext): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.stdin) chunks.push(Buffer.from(c as Buffer));
  const buf = Buffer.concat(chunks);
  // `build - < context.tar[.gz]` sends a whole context; --check reads only a Dockerfile from stdin.
  const gzip = buf[0] === 0x1f && buf[1] === 0x8b;
  const tar = buf.length >= 263 && buf.toString('latin1', 257, 262) === 'ustar';
  if (gzip || tar) {
    throw new CliError(
      'berth build --check reads a Dockerfile from stdin, not a context archive: extract the archive and pass its directory',
      125,
    );
  }
  return buf.toString('utf8');
}

function format(f: Finding): string {
  const where = f.line > 0 ? ` (line ${f.line})` : '';
  return `${f.level === 'error' ? 'ERROR' : 'WARNING'}: ${f.rule} - ${f.message}${where}\n`;
}

export async function runChecks(
  ctx: CliContext,
  contextArg: string,
  file: string | undefined,
): Promise<void> {
  if (/^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i.test(contextArg)) {
    throw new CliError(
      `berth build --check reads a local directory: clone or download ${contextArg} and pass its path`,
      125,
    );
  }
  const fromStdin = contextArg === '-' || file === '-';
  if (contextArg === '-' && file !== undefined && file !== '-') {
    throw new CliError('with a context of "-" the Dockerfile comes from stdin: leave out -f', 125);
  }
  const contextDir = contextArg === '-' ? undefined : path.resolve(contextArg);
  if (contextDir !== undefined) {
    const st = await fsp.stat(contextDir).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw new CliError(`unable to prepare context: path "${contextArg}" not found or not a directory`, 1);
    }
  }

  let text: string;
  let dockerfilePath: string | undefined;
  if (fromStdin) text = await readStdin(ctx);
  else {
    dockerfilePath = file !== undefined ? path.resolve(file) : path.join(contextDir!, 'Dockerfile');
    try {
      text = await fsp.readFile(dockerfilePath, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new CliError(
        code === 'ENOENT'
          ? `failed to read Dockerfile: ${dockerfilePath} does not exist; pass its path with -f`
          : `failed to read Dockerfile ${dockerfilePath}: ${(err as Error).message}`,
        1,
      );
    }
  }

  let hasDockerignore: boolean | undefined;
  let ignoredPaths: ((p: string) => boolean) | undefined;
  let size: number | undefined;
  if (contextDir !== undefined) {
    let ignore: Awaited<ReturnType<typeof loadDockerignore>>;
    try {
      ignore = await loadDockerignore(dockerfilePath ?? 'Dockerfile', contextDir);
    } catch (err) {
      throw new CliError(`failed to read .dockerignore: ${(err as Error).message}`, 1);
    }
    hasDockerignore = ignore !== undefined;
    if (ignore) {
      let matcher: IgnoreMatcher;
      try {
        matcher = new IgnoreMatcher(ignore.patterns);
      } catch (err) {
        throw new CliError(`invalid ${ignore.file}: ${(err as Error).message}`, 1);
      }
      ignoredPaths = (p) => matcher.matches(p);
    } else size = await contextSize(contextDir, LARGE_CONTEXT_BYTES);
  }

  const { findings, failed } = checkDockerfile(text, {
    ...(size !== undefined ? { contextSize: size } : {}),
    ...(hasDockerignore !== undefined ? { hasDockerignore } : {}),
    ...(ignoredPaths ? { ignoredPaths } : {}),
  });

  const warnings = findings.filter((f) => f.level === 'warning');
  const errors = findings.filter((f) => f.level === 'error');
  if (findings.length === 0) ctx.out.write('Check complete, no warnings found.\n');
  else {
    if (warnings.length > 0) {
      const n = warnings.length;
      ctx.out.write(`Check complete, ${n} warning${n === 1 ? ' has' : 's have'} been found!\n\n`);
    }
    for (const f of warnings) ctx.out.write(format(f));
    for (const f of errors) ctx.err.write(format(f));
  }
  if (failed) {
    if (errors.length > 0) throw new CliError('', 1);
    const rules = [...new Set(warnings.map((f) => f.rule))].join(', ');
    throw new CliError(
      `ERROR: lint violation found for rules: ${rules} (the Dockerfile sets check=error=true)`,
      1,
    );
  }
}
