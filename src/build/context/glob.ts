// Go's path/filepath.Match syntax, compiled to JavaScript regular expressions. Docker uses this
// syntax for COPY/ADD sources and (with `**` added) for .dockerignore patterns, so both build
// on this module. Written from the documented grammar:
//
//   pattern:  { term }
//   term:     '*' (any run of non-separator characters) | '?' (one non-separator character)
//             | '[' [ '^' ] { range } ']' | '\' c (c literally) | c (itself)
//   range:    c | c '-' c   (where c may be written '\' c; unescaped '-' and ']' are errors)
//
// A malformed pattern is an error (Go's ErrBadPattern) whether or not it would have matched.

import { InvalidArgumentError } from '../../errdefs/index.ts';

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

export class BadPatternError extends InvalidArgumentError {
  constructor(pattern: string, detail: string) {
    super('BUILD_BAD_PATTERN', `syntax error in pattern ${JSON.stringify(pattern)}: ${detail}`);
  }
}

const REGEX_SPECIAL = new Set([...'\\^$.|?*+()[]{}/']);

/** A literal character in regex source (unicode mode allows `\-` only inside classes). */
function lit(ch: string, inClass = false): string {
  return REGEX_SPECIAL.has(ch) || (inClass && ch === '-') ? `\\${ch}` : ch;
}

/**
 * Translates one character class starting at `pattern[i] === '['` into a regex class.
 * Returns the regex text and the index after the closing `]`.
 */
function compileClass(pattern: string, chars: string[], start: number): { re: string; next: number } {
  let i = start + 1;
  let negated = false;
  if (chars[i] === '^') {
    negated = true;
    i++;
  }
  const items: string[] = [];
  const readChar = (): string => {
    const c = chars[i];
    if (c === undefined) throw new BadPatternError(pattern, 'unterminated character class');
    if (c === '-' || c === ']') {
      throw new BadPatternError(pattern, `unescaped ${JSON.stringify(c)} in character class`);
    }
    i++;
    if (c !== '\\') return c;
    const e = chars[i];
    if (e === undefined) throw new BadPatternError(pattern, 'trailing backslash');
    i++;
    return e;
  };
  for (;;) {
    if (chars[i] === ']' && items.length > 0) {
      i++;
      break;
    }
    const lo = readChar();
    let hi = lo;
    if (chars[i] === '-') {
      i++;
      hi = readChar();
    }
    // A reversed range matches nothing in Go; keep it valid (and empty) for the regex engine.
    if ((lo.codePointAt(0) ?? 0) > (hi.codePointAt(0) ?? 0)) items.push('(?!)');
    else items.push(lo === hi ? lit(lo, true) : `${lit(lo, true)}-${lit(hi, true)}`);
  }
  const body = items.filter((x) => x !== '(?!)').join('');
  if (body === '') return { re: negated ? '[^/]' : '(?!)', next: i };
  // `?`, `*` and classes never match the separator.
  return { re: negated ? `[^/${body}]` : `(?:(?!/)[${body}])`, next: i };
}

/**
 * The regex source (without anchors) of a filepath.Match pattern. With `doubleStar`, `**` is
 * Docker's .dockerignore extension: any number of path components (see dockerignore.ts).
 */
export function globToRegexSource(pattern: string, doubleStar = false): string {
  const chars = [...pattern];
  let re = '';
  for (let i = 0; i < chars.length; ) {
    const c = chars[i]!;
    if (c === '*') {
      if (doubleStar && chars[i + 1] === '*') {
        i += 2;
        if (chars[i] === '/') i++;
        re += i >= chars.length ? '.*' : '(?:.*/)?';
        continue;
      }
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '[') {
      const cls = compileClass(pattern, chars, i);
      re += cls.re;
      i = cls.next;
    } else if (c === '\\') {
      const e = chars[i + 1];
      if (e === undefined) throw new BadPatternError(pattern, 'trailing backslash');
      re += lit(e);
      i += 2;
    } else {
      re += lit(c);
      i++;
    }
  }
  return re;
}

/** True if the pattern has any wildcard or escape (a plain path is compared as is). */
export function hasMeta(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}

/** Compiles a filepath.Match pattern; throws BadPatternError when malformed. */
export function compileGlob(pattern: string): RegExp {
  return new RegExp(`^${globToRegexSource(pattern)}$`, 'su');
}

/** Go's filepath.Match(pattern, name). */
export function globMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern).test(name);
}
