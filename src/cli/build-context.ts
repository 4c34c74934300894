// The client side of `build`: turning a context directory (or stdin) into the tar stream that
// POST /build takes, as the docker CLI does:
// - the .dockerignore that applies (dockerignoreFor) filters the walk; ignored directories are
//   pruned unless an exception may re-include something below them;
// - the Dockerfile and the .dockerignore are always sent, even when ignored (the daemon needs
//   them; it drops them again before COPY sees the context);
// - a Dockerfile outside the context (or given on stdin with a directory context) travels as
//   `.dockerfile.<20 hex>`, and the sent .dockerignore gets that name appended so COPY never
//   sees it (exactly what docker/cli does);
// - every entry is owned by 0:0 (docker/cli packs contexts with ChownOpts 0:0);
// - the tar is produced lazily while the request body is sent: large contexts are never
//   buffered.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import {
  detectCompression,
  type ExtraFile,
  isTarHeader,
  packDirectory,
  type PackTree,
  packTrees,
  tarOfFiles,
} from '../archive/index.ts';
import { dockerignoreFor, IgnoreMatcher, parseDockerignore } from '../build/context/dockerignore.ts';
import { CliError } from './context.ts';
import type { LocalNamedContext } from './named-contexts.ts';

export const DEFAULT_DOCKERFILE = 'Dockerfile';

export interface PackedContext {
  /** The context tar (uncompressed), read lazily. */
  readonly stream: Readable;
  /** The `dockerfile` query parameter for POST /build: the Dockerfile's path inside the tar. */
  readonly dockerfileInContext: string;
  /** The `namedcontexts` query parameter (src/build/context/named.ts), when there are any. */
  readonly namedContexts?: string;
}

export interface StdinContext extends PackedContext {
  /** True when stdin held a context archive (then `-f` names a file in it), false for a Dockerfile alone. */
  readonly archive: boolean;
}

export interface PackBuildContextOptions {
  /** The Dockerfile's text when it came from stdin (`-f -`); `dockerfile` is then ignored. */
  readonly dockerfileContent?: Buffer;
  /** Named contexts (`--build-context`): local directories travel in the tar, each with its own .dockerignore. */
  readonly namedContexts?: ReadonlyMap<string, LocalNamedContext>;
  readonly signal?: AbortSignal;
}

function prepareError(message: string): CliError {
  return new CliError(`unable to prepare context: ${message}`);
}

function realDir(contextDir: string): string {
  let abs: string;
  try {
    abs = fs.realpathSync(path.resolve(contextDir));
  } catch {
    throw prepareError(`path ${JSON.stringify(contextDir)} not found`);
  }
  if (!fs.statSync(abs).isDirectory()) throw prepareError(`context must be a directory: ${abs}`);
  return abs;
}

/** The Dockerfile's real path: `-f` relative to the context (or absolute), default Dockerfile/dockerfile. */
function locateDockerfile(context: string, dockerfile: string): string {
  let p = dockerfile === '' ? path.join(context, DEFAULT_DOCKERFILE) : path.resolve(context, dockerfile);
  if (dockerfile === '' && !fs.existsSync(p)) {
    // Docker also accepts a lowercase `dockerfile` when the default is missing.
    const lower = path.join(context, DEFAULT_DOCKERFILE.toLowerCase());
    if (fs.existsSync(lower)) p = lower;
  }
  try {
    return fs.realpathSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'no such file or directory' : code;
    throw prepareError(`unable to evaluate symlinks in Dockerfile path: lstat ${p}: ${why}`);
  }
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw prepareError(`cannot read ${file}: ${code ?? String(err)}`);
  }
}

function isInside(rel: string): boolean {
  return rel !== '' && rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel);
}

/**
 * Packs `contextDir` for POST /build. `dockerfile` is a path relative to the context or
 * absolute (resolve `-f` against the current directory first, as docker does), `''` for the
 * default. Throws a CliError (docker's "unable to prepare context: ..." wording) when the
 * context or the Dockerfile cannot be found or a .dockerignore pattern is malformed.
 */
export function packBuildContext(
  contextDir: string,
  dockerfile: string,
  opts: PackBuildContextOptions = {},
): PackedContext {
  const context = realDir(contextDir);
  const fromStdin = opts.dockerfileContent !== undefined;
  const dockerfileAbs = fromStdin ? undefined : locateDockerfile(context, dockerfile);
  const dockerfileRel = dockerfileAbs === undefined ? undefined : path.relative(context, dockerfileAbs);
  const inside = dockerfileRel !== undefined && isInside(dockerfileRel);

  // The ignore file: <Dockerfile>.dockerignore next to it, else the context's .dockerignore.
  const candidates = dockerfileAbs
    ? dockerignoreFor(dockerfileAbs, context)
    : [path.join(context, '.dockerignore')];
  let ignoreFile: string | undefined;
  let ignoreText: Buffer | undefined;
  for (const c of candidates) {
    ignoreText = readIfExists(c);
    if (ignoreText !== undefined) {
      ignoreFile = c;
      break;
    }
  }
  const patterns = ignoreText === undefined ? [] : parseDockerignore(ignoreText.toString('utf8'));
  let matcher: IgnoreMatcher;
  try {
    matcher = new IgnoreMatcher(patterns);
    // Docker always sends the build files: exceptions for them when they are ignored.
    const keep = ['.dockerignore'];
    if (ignoreFile !== undefined && isInside(path.relative(context, ignoreFile))) {
      keep.push(path.relative(context, ignoreFile));
    }
    if (inside) keep.push(dockerfileRel!);
    const extra = keep.filter((k) => matcher.matches(k)).map((k) => `!${k}`);
    if (extra.length > 0) matcher = new IgnoreMatcher([...patterns, ...extra]);
  } catch (err) {
    throw prepareError(`error checking context: ${(err as Error).message}`);
  }

  const extraFiles: ExtraFile[] = [];
  let dockerfileInContext = dockerfileRel ?? '';
  let replaceDockerignore = false;
  if (!inside) {
    // Outside the context or from stdin: send it under a generated name, hidden from COPY by
    // the .dockerignore we send.
    const content = opts.dockerfileContent ?? fs.readFileSync(dockerfileAbs!);
    dockerfileInContext = `.dockerfile.${randomBytes(10).toString('hex')}`;
    const rootIgnore = path.join(context, '.dockerignore');
    const existing = readIfExists(rootIgnore);
    const mode = existing === undefined ? 0o600 : fs.statSync(rootIgnore).mode & 0o7777;
    const base = existing?.toString('utf8') ?? '.dockerignore';
    extraFiles.push(
      { name: dockerfileInContext, content, mode: 0o600 },
      { name: '.dockerignore', content: Buffer.from(`${base}\n${dockerfileInContext}\n`), mode },
    );
    replaceDockerignore = true;
  }

  const skip = (latin1Rel: string): boolean | 'contents' => {
    const rel = Buffer.from(latin1Rel, 'latin1').toString('utf8');
    if (replaceDockerignore && rel === '.dockerignore') return true;
    if (!matcher.matches(rel)) return false;
    return matcher.mayContainExceptions(rel) ? 'contents' : true;
  };
  const named = opts.namedContexts ?? new Map<string, LocalNamedContext>();
  if (named.size === 0) {
    const stream = packDirectory(context, {
      skip,
      owner: { uid: 0, gid: 0 },
      extraFiles,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { stream, dockerfileInContext };
  }
  const trees: PackTree[] = [{ dir: context, prefix: '', skip, owner: { uid: 0, gid: 0 }, extraFiles }];
  const param: Record<string, { dir: string } | { image: string }> = {};
  const ns = `.berth-named.${randomBytes(10).toString('hex')}`;
  let i = 0;
  for (const [name, c] of named) {
    if ('image' in c) {
      param[name] = { image: c.image };
      continue;
    }
    const dir = realDir(c.dir);
    const prefix = `${ns}/${i++}`;
    trees.push({ dir, prefix, skip: namedSkip(dir), owner: { uid: 0, gid: 0 } });
    param[name] = { dir: prefix };
  }
  return {
    stream: packTrees(trees, opts.signal),
    dockerfileInContext,
    namedContexts: JSON.stringify(param),
  };
}

/** A named directory's own .dockerignore, if it has one (as buildx reads it). */
function namedSkip(dir: string): (latin1Rel: string) => boolean | 'contents' {
  const text = readIfExists(path.join(dir, '.dockerignore'));
  if (text === undefined) return () => false;
  let matcher: IgnoreMatcher;
  try {
    matcher = new IgnoreMatcher(parseDockerignore(text.toString('utf8')));
  } catch (err) {
    throw prepareError(`error checking context ${dir}: ${(err as Error).message}`);
  }
  return (latin1Rel) => {
    const rel = Buffer.from(latin1Rel, 'latin1').toString('utf8');
    if (!matcher.matches(rel)) return false;
    return matcher.mayContainExceptions(rel) ? 'contents' : true;
  };
}

/** Reads at least `n` bytes (fewer at the end) without consuming the rest of `s`. */
function readHead(s: Readable, n: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (ended: boolean): void => {
      s.off('readable', onReadable);
      s.off('end', onEnd);
      s.off('error', onError);
      resolve({ head: Buffer.concat(chunks, length), ended });
    };
    const onReadable = (): void => {
      for (;;) {
        const c = s.read() as Buffer | string | null;
        if (c === null) return;
        const b = typeof c === 'string' ? Buffer.from(c) : c;
        chunks.push(b);
        length += b.length;
        if (length >= n) {
          finish(false);
          return;
        }
      }
    };
    const onEnd = (): void => finish(true);
    const onError = (err: Error): void => {
      s.off('readable', onReadable);
      s.off('end', onEnd);
      reject(err);
    };
    s.on('readable', onReadable);
    s.once('end', onEnd);
    s.once('error', onError);
  });
}

async function* prepend(head: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for await (const c of rest) yield typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
}

/**
 * `build -`: stdin is either a context archive (a tar, possibly compressed: detected by its
 * magic or a valid tar header, as docker does) passed through untouched, or a Dockerfile alone,
 * which becomes a one-file context holding `Dockerfile`.
 */
export async function contextFromStdin(stdin: Readable): Promise<StdinContext> {
  const { head, ended } = await readHead(stdin, 512);
  if (detectCompression(head) !== 'none' || isTarHeader(head)) {
    // The sniffed bytes go in front of the rest (unshift() could lose them when 'end' is
    // already on its way).
    const stream = ReadableStream.from(ended ? [head] : prepend(head, stdin), { objectMode: false });
    return { stream, dockerfileInContext: DEFAULT_DOCKERFILE, archive: true };
  }
  const chunks: Buffer[] = [head];
  if (!ended)
    for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  const tar = tarOfFiles([{ name: DEFAULT_DOCKERFILE, content: Buffer.concat(chunks), mode: 0o644 }]);
  return {
    stream: ReadableStream.from([tar], { objectMode: false }),
    dockerfileInContext: DEFAULT_DOCKERFILE,
    archive: false,
  };
}
