// Go's path.Match (and filepath.Match on Unix) without a backtracking engine. Users type these
// globs (image `reference=` filters, COPY/ADD sources, .dockerignore lines, paths a Dockerfile
// removes), and the daemon matches them on its event loop: a pattern compiled to a JavaScript
// RegExp backtracks polynomially (`*a*a*a*a*b` against `aaaa…`), so it must not be one.
//
// Grammar (Go's documented one):
//   pattern: { term }
//   term:    '*'  any run of non-'/' characters      '?'  one non-'/' character
//            '[' [ '^' ] { range } ']'  a class (non-empty; it CAN match '/', as in Go)
//            '\' c  the character c                  c    itself
//   range:   c | c '-' c   (c may be written '\' c; an unescaped '-' or ']' here is an error)
// Go's class negation is `^` only: `[!a]` is the class of '!' and 'a', as in Go.
// With `doubleStar` (moby/patternmatcher's .dockerignore extension), `**` matches any run of
// characters including '/': at the end of the pattern it is `.*`, elsewhere (a following '/' is
// eaten) it is `(.*/)?`, i.e. empty or anything that ends in '/'.
//
// Matching is a Thompson NFA simulation over the token list: the state set holds at most
// m+1 positions (m tokens, `**/` counting two) and each input character moves every live position once, so a match
// costs O(n·m) steps with no backtracking, whatever the pattern. Go's own algorithm (match a
// chunk at the leftmost place after a star, never revisit) has the same bound.

import { InvalidArgumentError } from '../../errdefs/index.ts';

/** Go's ErrBadPattern, naming the pattern and what is wrong with it. */
export class BadPatternError extends InvalidArgumentError {
  readonly pattern: string;
  constructor(pattern: string, detail: string) {
    super('BAD_PATTERN', `syntax error in pattern ${JSON.stringify(pattern)}: ${detail}`);
    this.pattern = pattern;
  }
}

const SLASH = 0x2f;

type Token =
  | { readonly k: 'lit'; readonly c: number }
  | { readonly k: 'any' }
  | { readonly k: 'class'; readonly negated: boolean; readonly ranges: readonly number[] }
  | { readonly k: 'star' }
  | { readonly k: 'dstar' }
  | { readonly k: 'dirsEntry' }
  | { readonly k: 'dirsInner' };

export interface GlobOptions {
  /** Accept `**` as .dockerignore does (any number of path components). */
  readonly doubleStar?: boolean;
}

/** A compiled glob: `test(name)` is Go's Match(pattern, name) for the whole of `name`. */
export interface Glob {
  readonly pattern: string;
  test(name: string): boolean;
}

/** One character of a class, possibly escaped; returns it and the index after it. */
function classChar(pattern: string, cps: readonly number[], i: number): [number, number] {
  const c = cps[i];
  if (c === undefined) throw new BadPatternError(pattern, 'unterminated character class: add a closing "]"');
  if (c === 0x2d || c === 0x5d)
    throw new BadPatternError(
      pattern,
      `unescaped "${String.fromCodePoint(c)}" in a character class: write \\${String.fromCodePoint(c)}`,
    );
  if (c !== 0x5c) return [c, i + 1];
  const e = cps[i + 1];
  if (e === undefined) throw new BadPatternError(pattern, 'trailing backslash in a character class');
  return [e, i + 2];
}

function parse(pattern: string, doubleStar: boolean): Token[] {
  const cps = Array.from(pattern, (ch) => ch.codePointAt(0)!);
  const out: Token[] = [];
  for (let i = 0; i < cps.length; ) {
    const c = cps[i]!;
    if (c === 0x2a /* * */) {
      if (doubleStar && cps[i + 1] === 0x2a) {
        i += 2;
        if (cps[i] === SLASH) i++;
        // `(.*/)?` takes two states: its entry (which may skip it) and its inside (which may
        // only leave through a '/').
        if (i >= cps.length) out.push({ k: 'dstar' });
        else out.push({ k: 'dirsEntry' }, { k: 'dirsInner' });
        continue;
      }
      // Consecutive stars are one star (a run of runs is a run): keeps m small for `****`.
      if (out.at(-1)?.k !== 'star') out.push({ k: 'star' });
      i++;
    } else if (c === 0x3f /* ? */) {
      out.push({ k: 'any' });
      i++;
    } else if (c === 0x5c /* \ */) {
      const e = cps[i + 1];
      if (e === undefined) throw new BadPatternError(pattern, 'trailing backslash: escape it as \\\\');
      out.push({ k: 'lit', c: e });
      i += 2;
    } else if (c === 0x5b /* [ */) {
      i++;
      let negated = false;
      if (cps[i] === 0x5e /* ^ */) {
        negated = true;
        i++;
      }
      const ranges: number[] = [];
      for (;;) {
        if (cps[i] === 0x5d && ranges.length > 0) {
          i++;
          break;
        }
        let lo: number;
        [lo, i] = classChar(pattern, cps, i);
        let hi = lo;
        if (cps[i] === 0x2d /* - */) [hi, i] = classChar(pattern, cps, i + 1);
        // Go also refuses a class that runs to the end of the pattern right after an item.
        if (cps[i] === undefined)
          throw new BadPatternError(pattern, 'unterminated character class: add a closing "]"');
        ranges.push(lo, hi); // a reversed range matches nothing, as in Go
      }
      out.push({ k: 'class', negated, ranges });
    } else {
      out.push({ k: 'lit', c });
      i++;
    }
  }
  return out;
}

function classMatches(t: { negated: boolean; ranges: readonly number[] }, c: number): boolean {
  let hit = false;
  for (let r = 0; r < t.ranges.length && !hit; r += 2) hit = t.ranges[r]! <= c && c <= t.ranges[r + 1]!;
  return hit !== t.negated;
}

/** Follows the ε-edges (a star may match nothing); they only go forward, so one pass does. */
function close(tokens: readonly Token[], set: Uint8Array): void {
  for (let i = 0; i < tokens.length; i++) {
    if (!set[i]) continue;
    const k = tokens[i]!.k;
    if (k === 'star' || k === 'dstar') set[i + 1] = 1;
    else if (k === 'dirsEntry') set[i + 2] = 1;
  }
}

function run(tokens: readonly Token[], name: string): boolean {
  const m = tokens.length;
  let cur = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  cur[0] = 1;
  close(tokens, cur);
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    next.fill(0);
    let live = false;
    for (let i = 0; i < m; i++) {
      if (!cur[i]) continue;
      const t = tokens[i]!;
      let adv = false;
      switch (t.k) {
        case 'lit':
          adv = c === t.c;
          break;
        case 'any':
          adv = c !== SLASH;
          break;
        case 'class':
          adv = classMatches(t, c);
          break;
        case 'star':
          if (c !== SLASH) next[i] = 1;
          break;
        case 'dstar':
          next[i] = 1;
          break;
        case 'dirsEntry':
        case 'dirsInner': {
          const inner = t.k === 'dirsEntry' ? i + 1 : i;
          next[inner] = 1;
          if (c === SLASH) next[inner + 1] = 1;
          live = true;
          break;
        }
      }
      if (adv) next[i + 1] = 1;
      live ||= adv || next[i] === 1;
    }
    if (!live) return false;
    close(tokens, next);
    [cur, next] = [next, cur];
  }
  return cur[m] === 1;
}

/** Compiles a Go path.Match pattern; throws BadPatternError (a 400) when it is malformed. */
export function compileGlob(pattern: string, opts: GlobOptions = {}): Glob {
  const tokens = parse(pattern, opts.doubleStar === true);
  if (tokens.every((t) => t.k === 'lit')) {
    const literal = tokens.map((t) => String.fromCodePoint((t as { c: number }).c)).join('');
    return { pattern, test: (name) => name === literal };
  }
  return { pattern, test: (name) => run(tokens, name) };
}

/** Go's path.Match(pattern, name); throws BadPatternError for a malformed pattern. */
export function globMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern).test(name);
}

/** True if the pattern has a wildcard or an escape (a plain path can be compared as is). */
export function hasGlobMeta(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}
