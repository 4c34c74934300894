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

/**
 * The same NFA with its state set in one 32-bit integer (bit i: "before token i"), for patterns
 * of at most 30 tokens (nearly all): one step is a few shifts and masks instead of a loop over
 * the tokens, so matching a context of 100k files stays as fast as the RegExp it replaces. The
 * bound is unchanged: O(n) steps, each O(1) (the ε-closure loop runs at most m times).
 */
function bitMatcher(tokens: readonly Token[]): (name: string) => boolean {
  const m = tokens.length;
  const lit = new Map<number, number>();
  const classes: { bit: number; t: Extract<Token, { k: 'class' }> }[] = [];
  let any = 0; // advance on one non-'/' character
  let starSelf = 0; // stay on a non-'/' character
  let anySelf = 0; // stay on any character
  let entry = 0; // `(.*/)?` entry: advance by one on any character, by two on '/'
  let inner = 0; // `(.*/)?` inside: advance on '/'
  let eps1 = 0;
  let eps2 = 0;
  tokens.forEach((t, i) => {
    const bit = 1 << i;
    switch (t.k) {
      case 'lit':
        lit.set(t.c, (lit.get(t.c) ?? 0) | bit);
        break;
      case 'class':
        classes.push({ bit, t });
        break;
      case 'any':
        any |= bit;
        break;
      case 'star':
        starSelf |= bit;
        eps1 |= bit;
        break;
      case 'dstar':
        anySelf |= bit;
        eps1 |= bit;
        break;
      case 'dirsEntry':
        entry |= bit;
        eps2 |= bit;
        break;
      case 'dirsInner':
        anySelf |= bit;
        inner |= bit;
        break;
    }
  });
  const advance = (c: number): number => {
    let a = (lit.get(c) ?? 0) | entry;
    for (const { bit, t } of classes) if (classMatches(t, c)) a |= bit;
    return c === SLASH ? a | inner : a | any;
  };
  // Advance masks of the ASCII characters, computed once.
  const ascii = new Int32Array(128);
  for (let c = 0; c < 128; c++) ascii[c] = advance(c);
  const close = (set: number): number => {
    for (;;) {
      const more = set | ((set & eps1) << 1) | ((set & eps2) << 2);
      if (more === set) return set;
      set = more;
    }
  };
  const start = close(1);
  return (name) => {
    let cur = start;
    for (let i = 0; i < name.length; i++) {
      let c = name.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < name.length) {
        const lo = name.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo < 0xe000) {
          c = ((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          i++;
        }
      }
      const a = c < 128 ? ascii[c]! : advance(c);
      const self = c === SLASH ? anySelf : anySelf | starSelf;
      const next = ((cur & a) << 1) | (c === SLASH ? (cur & entry) << 2 : 0) | (cur & self);
      if (next === 0) return false;
      cur = close(next);
    }
    return ((cur >>> m) & 1) === 1;
  };
}

/** Compiles a Go path.Match pattern; throws BadPatternError (a 400) when it is malformed. */
export function compileGlob(pattern: string, opts: GlobOptions = {}): Glob {
  const tokens = parse(pattern, opts.doubleStar === true);
  if (tokens.every((t) => t.k === 'lit')) {
    const literal = tokens.map((t) => String.fromCodePoint((t as { c: number }).c)).join('');
    return { pattern, test: (name) => name === literal };
  }
  if (tokens.length <= 30) return { pattern, test: bitMatcher(tokens) };
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
