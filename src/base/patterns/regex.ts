// Regular expressions that users type (`name=` filters, `--log-opt env-regex`/`labels-regex`).
// Docker compiles them with Go's regexp (RE2: linear time, no backreferences or lookaround);
// JavaScript's RegExp backtracks, and `^(a|a)*$` against `aaaa…ab` pins the event loop for
// good. So every user regex goes through re2js here.
//
// Why re2js and not the `re2` npm binding: re2js is a pure-JavaScript port of RE2/J (Russ Cox's
// RE2 design, the same syntax as Go's regexp/syntax), so it needs no node-gyp build or prebuilt
// binary download (this machine has no route to those), has no native ABI to keep in step with
// the Node version, and bundles with esbuild into dist/ like the rest of the daemon. It is
// slower than native RE2 by a constant factor, which the caps below keep small.
//
// Semantics compared with Go's regexp (checked by hand and in test/unit/base/patterns.test.ts):
// the syntax and its errors are Go's (`error parsing regexp: missing closing ): ...`, repeat
// counts capped at 1000, no `(?=`, no `\1`, no `\Z`); `(?P<n>` and `(?<n>` both name groups as
// in Go 1.22+. One difference found: re2js accepts a class range that starts at a Perl class
// (`[\d-z]`, a literal '-'), which Go refuses. Matching works on JavaScript strings decoded to
// code points where Go decodes UTF-8 bytes to runes: the same for valid text; a lone surrogate
// is one code point here and would be invalid UTF-8 (U+FFFD) in Go.
//
// The caps bound the work of one match to O(input × program) with a small program: Go accepts
// larger programs, but a request must not buy seconds of daemon CPU with a 10-byte `.{1000}{…}`.

import { RE2JS } from 're2js';
import { InvalidArgumentError } from '../../errdefs/index.ts';

/** Longest pattern accepted (characters). Filters and log options are short in practice. */
export const MAX_REGEX_LENGTH = 4096;
/** Largest compiled program accepted (RE2 instructions; `a{1000}` is about 1000). */
export const MAX_REGEX_PROGRAM = 10_000;

/** A compiled user regex: `test(s)` is Go's regexp.MatchString (a match anywhere in s). */
export interface UserRegex {
  readonly source: string;
  test(s: string): boolean;
}

/**
 * Compiles `pattern` with Go's regexp syntax in linear time. `what` names where it came from for
 * the error (`name filter`, `log option env-regex`). Throws InvalidArgumentError (a 400) naming
 * the pattern when it is invalid or too large.
 */
export function compileRegex(pattern: string, what: string): UserRegex {
  const bad = (detail: string) =>
    new InvalidArgumentError('INVALID_REGEX', `invalid ${what} ${JSON.stringify(pattern)}: ${detail}`);
  if (pattern.length > MAX_REGEX_LENGTH)
    throw bad(`the pattern is longer than ${MAX_REGEX_LENGTH} characters; use a shorter one`);
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    throw bad(`${(err as Error).message}; the syntax is Go's regexp (RE2)`);
  }
  const size = re.re2().prog.inst.length;
  if (size > MAX_REGEX_PROGRAM)
    throw bad(
      `the pattern is too large (${size} instructions, at most ${MAX_REGEX_PROGRAM}); use fewer or smaller repeats`,
    );
  return { source: pattern, test: (s) => re.test(s) };
}
