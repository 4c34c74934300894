// Go's path/filepath.Match syntax for COPY/ADD sources and (with `**` added) .dockerignore
// patterns. The matcher itself is the daemon's one linear-time glob engine
// (src/base/patterns/glob.ts): a build context is user input, and a glob compiled to a
// JavaScript RegExp backtracks polynomially on `*a*a*a*…b` against a long file name.

import { compileGlob as compile, type Glob, hasGlobMeta } from '../../base/patterns/index.ts';

export { BadPatternError, type Glob } from '../../base/patterns/index.ts';

/** Go's filepath.Clean for slash-separated paths (lexical: `..` resolved, trailing `/` dropped). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const body = out.join('/');
  if (rooted) return `/${body}`;
  return body === '' ? '.' : body;
}

/** True if the pattern has any wildcard or escape (a plain path is compared as is). */
export function hasMeta(pattern: string): boolean {
  return hasGlobMeta(pattern);
}

/** Compiles a filepath.Match pattern; throws BadPatternError when malformed. */
export function compileGlob(pattern: string): Glob {
  return compile(pattern);
}

/** A .dockerignore pattern: filepath.Match plus `**` (moby/patternmatcher's regex form). */
export function compileIgnoreGlob(pattern: string): Glob {
  return compile(pattern, { doubleStar: true });
}

/** Go's filepath.Match(pattern, name). */
export function globMatch(pattern: string, name: string): boolean {
  return compile(pattern).test(name);
}
