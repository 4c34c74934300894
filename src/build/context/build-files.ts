// The daemon's handling of the two build files inside an extracted context, as Docker's daemon
// does it: read the Dockerfile (falling back to `dockerfile` for the default name), then delete
// the Dockerfile and the ignore file from the context when the ignore file names them, so that
// `COPY . /` does not copy them. Names come from the API (`dockerfile` query parameter) and
// are resolved inside the context only.

import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { IgnoreMatcher, loadDockerignore } from './dockerignore.ts';
import { resolveInRoot } from './scope.ts';

export const DEFAULT_DOCKERFILE = 'Dockerfile';

/** Largest Dockerfile we read into memory (Docker has no limit; 16 MiB is far beyond real ones). */
const MAX_DOCKERFILE = 16 << 20;

export interface ContextDockerfile {
  /** The Dockerfile's path inside the context (after the lowercase fallback). */
  readonly name: string;
  readonly content: Buffer;
}

function notFound(name: string): InvalidArgumentError {
  return new InvalidArgumentError(
    'BUILD_DOCKERFILE_NOT_FOUND',
    `Cannot locate specified Dockerfile: ${name} (not in the build context; pass its path with -f)`,
  );
}

/**
 * Reads the Dockerfile `name` (default `Dockerfile`, or `dockerfile` when only that exists) from
 * the extracted context `dir`. Symlinks are followed inside the context only.
 */
export async function readContextDockerfile(dir: string, name = ''): Promise<ContextDockerfile> {
  const wanted = name === '' ? DEFAULT_DOCKERFILE : name;
  let r = resolveInRoot(dir, wanted);
  let chosen = wanted;
  if (r.stat === undefined && wanted === DEFAULT_DOCKERFILE) {
    chosen = DEFAULT_DOCKERFILE.toLowerCase();
    r = resolveInRoot(dir, chosen);
  }
  if (r.stat === undefined) throw notFound(wanted);
  if (!r.stat.isFile()) {
    throw new InvalidArgumentError(
      'BUILD_DOCKERFILE_INVALID',
      `the Dockerfile ${JSON.stringify(wanted)} is not a regular file`,
    );
  }
  if (r.stat.size > MAX_DOCKERFILE) {
    throw new InvalidArgumentError(
      'BUILD_DOCKERFILE_TOO_LARGE',
      `the Dockerfile ${JSON.stringify(wanted)} is larger than 16 MiB`,
    );
  }
  const content = await fs.readFile(r.abs);
  // Docker's daemon refuses an empty Dockerfile before it answers (400), in these words.
  if (content.length === 0) {
    throw new InvalidArgumentError('BUILD_DOCKERFILE_EMPTY', `the Dockerfile (${wanted}) cannot be empty`);
  }
  return { name: chosen, content };
}

/**
 * Removes the ignore file and the Dockerfile `dockerfileName` from the context `dir` when the
 * ignore file that applies (see dockerignoreFor) matches them. Returns the removed paths
 * (relative to `dir`). Call it after reading the Dockerfile and before any COPY.
 */
export async function pruneBuildFiles(dir: string, dockerfileName: string): Promise<string[]> {
  const root = path.resolve(dir);
  const name = dockerfileName === '' ? DEFAULT_DOCKERFILE : dockerfileName;
  const dockerfile = resolveInRoot(root, name, false);
  const loaded = await loadDockerignore(dockerfile.rel, root, { inRoot: true });
  if (loaded === undefined) return [];
  const matcher = new IgnoreMatcher(loaded.patterns);
  const ignoreRel = path.relative(root, loaded.file);
  const removed: string[] = [];
  for (const rel of new Set([ignoreRel, '.dockerignore', dockerfile.rel])) {
    if (rel === '..' || rel.startsWith('../') || !matcher.matches(rel)) continue;
    const target = resolveInRoot(root, rel, false);
    if (target.stat === undefined || target.stat.isDirectory()) continue;
    await fs.rm(target.abs, { force: true });
    removed.push(rel);
  }
  return removed;
}
