// The user-pattern module: Go's path.Match semantics for globs (plus .dockerignore's `**`), Go's
// regexp syntax for regexes, 400-class errors for malformed patterns, and no super-linear work
// on hostile input (asserted by the result; a backtracking engine would not return at all).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BadPatternError,
  compileGlob,
  compileRegex,
  globMatch,
  MAX_REGEX_LENGTH,
} from '../../../src/base/patterns/index.ts';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';

describe('globMatch (Go path.Match)', () => {
  const cases: [string, string, boolean][] = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['a[!a]b', '!', false],
    ['[!a]', '!', true], // Go negates with ^ only: [!a] is the class {!, a}
    ['[!a]', 'b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['a[/]b', 'a/b', true], // a class may match '/' in Go
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[\\-x]', 'a', false],
    ['[z-a]', 'm', false], // a reversed range matches nothing
    ['*x', 'xxx', true],
    ['a]', 'a]', true],
    ['', '', true],
    ['', 'a', false],
    ['*', '', true],
    ['library/*', 'library/busybox', true],
  ];
  for (const [p, s, want] of cases) {
    it(`${JSON.stringify(p)} vs ${JSON.stringify(s)} → ${want}`, () => {
      assert.equal(globMatch(p, s), want);
    });
  }

  it('refuses malformed patterns with ErrBadPattern naming the pattern', () => {
    for (const bad of [
      '[',
      '[^',
      '[^bc',
      'a[',
      '[]a]',
      '[-]',
      '[x-]',
      '[a-b-c]',
      '\\',
      'a\\',
      '[\\',
      '[a',
      '[a-',
      '[]',
      '[^]',
    ]) {
      assert.throws(
        () => compileGlob(bad),
        (err: unknown) =>
          err instanceof BadPatternError &&
          err instanceof InvalidArgumentError &&
          err.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
  });

  it('validates the whole pattern even where it would not match', () => {
    assert.throws(() => globMatch('x[', 'y'), BadPatternError);
  });

  it('is linear on hostile stars', () => {
    const pattern = `${'*a'.repeat(40)}*b`;
    const name = 'a'.repeat(20_000);
    assert.equal(globMatch(pattern, name), false);
    assert.equal(globMatch(pattern, `${name}b`), true);
    // Short enough for the bit-parallel form.
    const short = `${'*a'.repeat(14)}*b`;
    assert.equal(globMatch(short, name), false);
    assert.equal(globMatch(short, `${name}b`), true);
  });
});

describe('compileGlob with doubleStar (.dockerignore)', () => {
  const g = (p: string) => compileGlob(p, { doubleStar: true });
  it('** at the end matches everything below', () => {
    assert.equal(g('a/**').test('a/b/c'), true);
    assert.equal(g('a/**').test('b/c'), false);
  });
  it('**/ matches zero or more directories', () => {
    assert.equal(g('**/x.go').test('x.go'), true);
    assert.equal(g('**/x.go').test('a/b/x.go'), true);
    assert.equal(g('a/**/b').test('a/b'), true);
    assert.equal(g('a/**/b').test('a/x/y/b'), true);
    assert.equal(g('a/**/b').test('a/xb'), false);
    assert.equal(g('**foo').test('x/yfoo'), false); // `(.*/)?foo`
    assert.equal(g('**foo').test('x/foo'), true);
  });
  it('is linear on hostile ** and * mixes', () => {
    const p = `${'**/*a'.repeat(30)}*b`;
    assert.equal(g(p).test(`${'a/'.repeat(3000)}a`), false);
  });
  it('without the option, ** is two stars (one run)', () => {
    assert.equal(globMatch('a/**', 'a/b/c'), false);
    assert.equal(globMatch('a/**', 'a/bc'), true);
  });
});

describe('compileRegex (Go regexp syntax, linear time)', () => {
  it('matches anywhere, like regexp.MatchString', () => {
    const r = compileRegex('^web-[0-9]+$', 'name filter');
    assert.equal(r.test('web-12'), true);
    assert.equal(r.test('xweb-12'), false);
    assert.equal(compileRegex('eb', 'name filter').test('web'), true);
  });
  it('finishes on the catastrophic-backtracking classics', () => {
    const s = `${'a'.repeat(50_000)}b`;
    assert.equal(compileRegex('^(a|a)*$', 'name filter').test(s), false);
    assert.equal(compileRegex('^(a+)+$', 'name filter').test(s), false);
    assert.equal(compileRegex('(x+x+)+y', 'name filter').test('x'.repeat(50_000)), false);
  });
  it('refuses an invalid pattern with a message naming it', () => {
    assert.throws(
      () => compileRegex('(', 'name filter'),
      (err: unknown) =>
        err instanceof InvalidArgumentError &&
        /invalid name filter "\(".*missing closing \)/.test(err.message),
    );
    for (const bad of ['a{1001}', '(?=x)', '\\1', '[z-a]', '*']) {
      assert.throws(() => compileRegex(bad, 'name filter'), InvalidArgumentError, bad);
    }
  });
  it('refuses patterns whose program or text is too large', () => {
    assert.throws(() => compileRegex('.{1000}'.repeat(20), 'name filter'), /too large/);
    assert.throws(() => compileRegex('a'.repeat(MAX_REGEX_LENGTH + 1), 'name filter'), /longer than/);
  });
});

describe('glob engine against a reference matcher (property)', () => {
  // The reference: the grammar's meaning written as a memoised recursion over (pattern, name)
  // positions on already-tokenised input — obviously right, too slow for real use.
  type Tok =
    | { k: 'lit'; c: string }
    | { k: 'any' }
    | { k: 'star' }
    | { k: 'dstar' }
    | { k: 'dirs' }
    | { k: 'cls'; neg: boolean; set: string };
  const pieces: [string, Tok][] = [
    ['a', { k: 'lit', c: 'a' }],
    ['b', { k: 'lit', c: 'b' }],
    ['/', { k: 'lit', c: '/' }],
    ['?', { k: 'any' }],
    ['*', { k: 'star' }],
    ['[ab]', { k: 'cls', neg: false, set: 'ab' }],
    ['[^a]', { k: 'cls', neg: true, set: 'a' }],
  ];
  function ref(toks: Tok[], name: string): boolean {
    const memo = new Map<string, boolean>();
    const go = (i: number, j: number): boolean => {
      const key = `${i},${j}`;
      const hit = memo.get(key);
      if (hit !== undefined) return hit;
      let r: boolean;
      const t = toks[i];
      if (!t) r = j === name.length;
      else if (t.k === 'star') r = go(i + 1, j) || (j < name.length && name[j] !== '/' && go(i, j + 1));
      else if (t.k === 'dstar') r = true;
      else if (t.k === 'dirs') {
        r = go(i + 1, j);
        for (let e = j; !r && e < name.length; e++) if (name[e] === '/') r = go(i + 1, e + 1);
      } else if (j >= name.length) r = false;
      else {
        const c = name[j]!;
        const ok = t.k === 'lit' ? c === t.c : t.k === 'any' ? c !== '/' : t.set.includes(c) !== t.neg;
        r = ok && go(i + 1, j + 1);
      }
      memo.set(key, r);
      return r;
    };
    return go(0, 0);
  }
  it('agrees on random patterns and names, short (bit-parallel) and long (array) patterns', async () => {
    const fc = (await import('fast-check')).default;
    const piece = fc.constantFrom(...pieces);
    const name = fc.array(fc.constantFrom('a', 'b', '/', 'c'), { maxLength: 10 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), name, (ps, n) => {
        const text = ps.map((p) => p[0]).join('');
        // Consecutive stars are one star in both (the engine merges them).
        return (
          globMatch(text, n) ===
          ref(
            ps.map((p) => p[1]),
            n,
          )
        );
      }),
      { numRuns: 3000 },
    );
  });
  it('agrees with ** (dockerignore) patterns', async () => {
    const fc = (await import('fast-check')).default;
    const piece = fc.constantFrom<[string, Tok][]>(...pieces.map((p) => [p]), [['**/', { k: 'dirs' }]]);
    const name = fc.array(fc.constantFrom('a', 'b', '/'), { maxLength: 10 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 36 }), fc.boolean(), name, (groups, tail, n) => {
        let ps = groups.flat();
        // Two `*` in a row, or a `*` next to `**`, would tokenise as another `**`.
        ps = ps.filter((p, i) => !(p[1].k === 'star' && ['star', 'dirs'].includes(ps[i - 1]?.[1].k ?? '')));
        ps = ps.filter((p, i) => !(p[1].k === 'star' && ps[i + 1]?.[1].k === 'dirs'));
        if (tail && ps.at(-1)?.[1].k === 'star') ps = ps.slice(0, -1);
        const text = ps.map((p) => p[0]).join('') + (tail ? '**' : '');
        const toks = ps.map((p) => p[1]).concat(tail ? [{ k: 'dstar' }] : []);
        // A `**/` that ends the pattern is `.*`, as in moby/patternmatcher.
        if (toks.at(-1)?.k === 'dirs') toks[toks.length - 1] = { k: 'dstar' };
        return compileGlob(text, { doubleStar: true }).test(n) === ref(toks, n);
      }),
      { numRuns: 3000 },
    );
  });
});
