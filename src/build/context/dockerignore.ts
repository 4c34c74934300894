// .dockerignore: parsing the file and matching context paths the way Docker does.
//
// Docker's rules (docs "Build context" → ".dockerignore files", moby/patternmatcher behaviour):
// - one pattern per line; a line whose FIRST character is `#` is a comment; surrounding
//   whitespace is trimmed; empty lines are skipped; a UTF-8 BOM on the first line is dropped;
// - a leading `!` makes the pattern an exception (re-includes what it matches);
// - each pattern is cleaned like Go's filepath.Clean (`a/../b` → `b`, `./a/` → `a`) and a
//   leading `/` is dropped: patterns are relative to the context root;
// - filepath.Match syntax (`*`, `?`, `[...]`, `\`) where `*`/`?` never cross `/`, plus `**`
//   for any number of directories (`**/*.go` also matches `x.go` at the root);
// - a pattern that matches a directory also matches everything below it;
// - the LAST pattern that matches a path decides (so a later `!x` re-includes, a later `x`
//   re-excludes).

import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { BadPatternError, cleanPath, compileGlob, compileIgnoreGlob, type Glob, globMatch } from './glob.ts';
import { resolveInRoot } from './scope.ts';

/** The patterns of a .dockerignore file, normalised as Docker's reader does (`!` kept). */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    if (n === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern !== '') {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

/**
 * How a pattern is compared. Docker picks the cheapest form that gives the regex's answer,
 * and two of them (prefix, suffix) are plain string tests whose results differ slightly from
 * the regex for odd patterns (`**foo` matches `xfoo`); we keep the same forms so our answers
 * are Docker's.
 */
type Kind = 'exact' | 'prefix' | 'suffix' | 'regex';

interface Pattern {
  readonly text: string;
  readonly exclusion: boolean;
  readonly kind: Kind;
  /** The linear-time matcher for the `regex` kind (never a JavaScript RegExp: see glob.ts). */
  readonly regex: Glob | undefined;
  /** Path components, for mayContainExceptions. */
  readonly segments: readonly string[];
}

function kindOf(p: string): Kind {
  const chars = [...p];
  let kind: Kind = 'exact';
  for (let i = 0; i < chars.length; ) {
    const first = i === 0;
    const c = chars[i++];
    if (c === '*' && chars[i] === '*') {
      i++;
      if (chars[i] === '/') i++;
      if (i >= chars.length) kind = kind === 'exact' ? 'prefix' : 'regex';
      else kind = 'regex';
      if (first) kind = 'suffix';
    } else if (c === '*' || c === '?' || c === '[' || c === ']') {
      kind = 'regex';
    } else if (c === '\\' && i < chars.length) {
      i++;
      kind = 'regex';
    }
  }
  return kind;
}

function compile(raw: string): Pattern {
  let p = cleanPath(raw.trim());
  let exclusion = false;
  if (p.startsWith('!')) {
    if (p.length === 1) {
      throw new InvalidArgumentError('BUILD_BAD_PATTERN', 'illegal exclusion pattern: "!"');
    }
    exclusion = true;
    p = p.slice(1);
  }
  // Validate as filepath.Match would (Docker fails the build on a malformed pattern).
  let regex: Glob | undefined;
  const kind = kindOf(p);
  try {
    compileGlob(p.replaceAll('**', '*'));
    if (kind === 'regex') regex = compileIgnoreGlob(p);
  } catch (err) {
    if (err instanceof BadPatternError) {
      throw new InvalidArgumentError(
        'BUILD_BAD_PATTERN',
        `invalid .dockerignore pattern ${JSON.stringify(raw)}: ${err.message}`,
      );
    }
    throw err;
  }
  return { text: p, exclusion, kind, regex, segments: p.split('/') };
}

function test(p: Pattern, file: string): boolean {
  switch (p.kind) {
    case 'exact':
      return file === p.text;
    case 'prefix':
      return file.startsWith(p.text.slice(0, -2));
    case 'suffix': {
      const suffix = p.text.slice(2);
      return file.endsWith(suffix) || (suffix.startsWith('/') && file === suffix.slice(1));
    }
    case 'regex':
      return p.regex!.test(file);
  }
}

export class IgnoreMatcher {
  readonly #patterns: readonly Pattern[];
  readonly #hasExceptions: boolean;

  /** `patterns` as parseDockerignore returns them. Throws InvalidArgumentError on bad syntax. */
  constructor(patterns: readonly string[]) {
    this.#patterns = patterns.filter((p) => p.trim() !== '').map(compile);
    this.#hasExceptions = this.#patterns.some((p) => p.exclusion);
  }

  /** No patterns at all: nothing is ignored. */
  get empty(): boolean {
    return this.#patterns.length === 0;
  }

  /** True if `relPath` (relative to the context root, `/`-separated) is ignored. */
  matches(relPath: string): boolean {
    const file = cleanPath(relPath.replace(/^\/+/, ''));
    if (file === '.' || file.startsWith('../') || file === '..') return false;
    const parents: string[] = [];
    for (let i = file.indexOf('/'); i !== -1; i = file.indexOf('/', i + 1)) parents.push(file.slice(0, i));
    let matched = false;
    for (const p of this.#patterns) {
      // Only a pattern that could flip the answer needs evaluating: last match wins.
      if (p.exclusion !== matched) continue;
      const hit = test(p, file) || parents.some((d) => test(p, d));
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * True if an ignored directory might still hold a path that an exception (`!pattern`)
   * re-includes, so a walker must descend into it instead of pruning it. Conservative: true
   * whenever some exception pattern could match below `relDir` component by component (any
   * `**` counts as "could"). Docker's classic walker only compared text prefixes, which misses
   * exceptions like `!<star>/keep`; BuildKit descends for those, and so do we.
   */
  mayContainExceptions(relDir: string): boolean {
    if (!this.#hasExceptions) return false;
    const dir = cleanPath(relDir.replace(/^\/+/, ''));
    const parts = dir === '.' ? [] : dir.split('/');
    for (const p of this.#patterns) {
      if (p.exclusion && couldMatchBelow(p.segments, parts)) return true;
    }
    return false;
  }
}

function couldMatchBelow(segments: readonly string[], dirParts: readonly string[]): boolean {
  for (let i = 0; i < dirParts.length; i++) {
    const seg = segments[i];
    // The exception names this directory or an ancestor: it already decided matches(dir).
    if (seg === undefined) return false;
    if (seg.includes('**')) return true;
    if (!globMatch(seg, dirParts[i]!)) return false;
  }
  return segments.length > dirParts.length;
}

/**
 * The ignore files Docker consults for a build, in order of precedence: `<Dockerfile>.dockerignore`
 * next to the Dockerfile (BuildKit's per-Dockerfile ignore file), then `.dockerignore` at the
 * context root. The first that exists is used; the others are not merged in.
 */
export function dockerignoreFor(dockerfilePath: string, contextDir: string): string[] {
  const own = `${path.resolve(contextDir, dockerfilePath)}.dockerignore`;
  const root = path.join(path.resolve(contextDir), '.dockerignore');
  return own === root ? [root] : [own, root];
}

export interface LoadedDockerignore {
  /** Absolute path of the ignore file that was read. */
  readonly file: string;
  readonly patterns: string[];
}

/** Largest ignore file read (a real one is a few hundred bytes; Docker has no limit). */
const MAX_DOCKERIGNORE = 16 << 20;

export interface LoadDockerignoreOptions {
  /**
   * `contextDir` is an untrusted extracted context (the daemon): each candidate is resolved
   * inside it with symlinks followed in scope (a `.dockerignore` linking to `/etc/shadow` means
   * `<context>/etc/shadow`), as Docker's daemon opens it. Without it (the CLI, reading the
   * user's own directory) symlinks are followed as the docker CLI does.
   */
  readonly inRoot?: boolean;
}

function unreadable(file: string, why: string, cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    'BUILD_DOCKERIGNORE_UNREADABLE',
    `cannot read the ignore file ${JSON.stringify(file)}: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Reads one regular file. O_NONBLOCK: a FIFO (or a device) would otherwise block a thread of
 * the pool until a writer comes, and such a node is refused after the fstat anyway.
 */
async function readRegular(abs: string, shown: string, flags: number): Promise<string | undefined> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(abs, fsc.O_RDONLY | fsc.O_NONBLOCK | flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw unreadable(shown, code ?? String(err), err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw unreadable(shown, 'not a regular file; send a regular .dockerignore');
    if (st.size > MAX_DOCKERIGNORE) throw unreadable(shown, 'larger than 16 MiB');
    return (await fh.readFile()).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Reads the ignore file that applies (see dockerignoreFor); undefined when there is none. */
export async function loadDockerignore(
  dockerfilePath: string,
  contextDir: string,
  opts: LoadDockerignoreOptions = {},
): Promise<LoadedDockerignore | undefined> {
  const root = path.resolve(contextDir);
  for (const file of dockerignoreFor(dockerfilePath, contextDir)) {
    let text: string | undefined;
    if (opts.inRoot) {
      const rel = path.relative(root, file);
      // A Dockerfile named outside the context has no ignore file of its own in it.
      if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) continue;
      const r = resolveInRoot(root, rel);
      if (r.stat === undefined) continue;
      // The resolved path holds no symlink (the context is the daemon's, nothing swaps one in);
      // O_NOFOLLOW makes sure of it for the last component.
      text = await readRegular(r.abs, rel, fsc.O_NOFOLLOW);
    } else {
      text = await readRegular(file, file, 0);
    }
    if (text === undefined) continue;
    return { file, patterns: parseDockerignore(text) };
  }
  return undefined;
}
