// Docker's word processing for builder instructions (BuildKit's shell lexer semantics): `$VAR`,
// `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`, `${VAR:?msg}`, single
// quotes (literal), double quotes (expanding), the escape character, and quote removal.
// Written here because the rules are Docker's own (not POSIX sh's), and they are small.
import { InvalidArgumentError } from '../../errdefs/index.ts';

export type Lookup = (name: string) => string | undefined;
type Esc = '\\' | '`';

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
/**
 * Bounds for what a Dockerfile (attacker-supplied text) can make the daemon's event loop do:
 * `${a:-${a:-…}}` re-lexes the rest of the word at every level (quadratic, then a stack
 * overflow), and `ENV b=$a$a$a…` repeated grows a value exponentially. No real Dockerfile
 * nests substitutions a dozen deep, and the kernel refuses any environment string or argument
 * over 128 KiB, so a word over 1 MiB could never be used anyway.
 */
const MAX_NESTING = 32;
const MAX_WORD = 1 << 20;

class Lexer {
  readonly #s: string;
  readonly #lookup: Lookup;
  readonly #esc: Esc;
  #i = 0;
  /** Words for expandWords: a break is recorded at unquoted whitespace. */
  readonly words: string[] = [];
  #cur = '';
  #inWord = false;
  readonly #split: boolean;
  readonly used = new Set<string>();

  readonly #depth: number;

  constructor(s: string, lookup: Lookup, esc: Esc, split: boolean, depth = 0) {
    if (depth > MAX_NESTING) {
      throw new InvalidArgumentError(
        'DOCKERFILE_SUBST',
        `variable substitutions nested more than ${MAX_NESTING} deep in: ${clip(s)}`,
      );
    }
    this.#depth = depth;
    this.#s = s;
    this.#lookup = lookup;
    this.#esc = esc;
    this.#split = split;
  }

  #emit(text: string, quoted: boolean): void {
    if (this.#cur.length + text.length > MAX_WORD) {
      throw new InvalidArgumentError(
        'DOCKERFILE_SUBST',
        `a word expands to more than ${MAX_WORD} bytes (variables repeated inside variables?): ${clip(this.#s)}`,
      );
    }
    if (!this.#split || quoted) {
      this.#cur += text;
      this.#inWord = true;
      return;
    }
    for (const ch of text) {
      if (/\s/.test(ch)) this.#break();
      else {
        this.#cur += ch;
        this.#inWord = true;
      }
    }
  }

  #break(): void {
    if (this.#inWord) this.words.push(this.#cur);
    this.#cur = '';
    this.#inWord = false;
  }

  run(): string {
    const s = this.#s;
    while (this.#i < s.length) {
      const c = s[this.#i]!;
      if (c === "'") {
        const end = s.indexOf("'", this.#i + 1);
        if (end === -1)
          throw new InvalidArgumentError(
            'DOCKERFILE_QUOTE',
            `unexpected end of statement while looking for matching single-quote in: ${s}`,
          );
        this.#emit(s.slice(this.#i + 1, end), true);
        this.#inWord = true;
        this.#i = end + 1;
      } else if (c === '"') {
        this.#i++;
        this.#inWord = true;
        this.#doubleQuoted();
      } else if (c === '$') {
        this.#emit(this.#dollar(), false);
      } else if (c === this.#esc) {
        if (this.#i + 1 < s.length) {
          this.#emit(s[this.#i + 1]!, true);
          this.#i += 2;
        } else {
          this.#emit(c, true);
          this.#i++;
        }
      } else {
        this.#emit(c, false);
        this.#i++;
      }
    }
    this.#break();
    return this.words.join(' ');
  }

  #doubleQuoted(): void {
    const s = this.#s;
    while (this.#i < s.length) {
      const c = s[this.#i]!;
      if (c === '"') {
        this.#i++;
        return;
      }
      if (c === '$') this.#emit(this.#dollar(), true);
      else if (c === this.#esc && this.#i + 1 < s.length && ['"', '$', this.#esc].includes(s[this.#i + 1]!)) {
        this.#emit(s[this.#i + 1]!, true);
        this.#i += 2;
      } else {
        this.#emit(c, true);
        this.#i++;
      }
    }
    throw new InvalidArgumentError(
      'DOCKERFILE_QUOTE',
      `unexpected end of statement while looking for matching double-quote in: ${s}`,
    );
  }

  /** At `$`: returns the expansion and moves past it. */
  #dollar(): string {
    const s = this.#s;
    this.#i++; // $
    const c = s[this.#i];
    if (c === '{') {
      this.#i++;
      let name = '';
      while (this.#i < s.length && NAME_CHAR.test(s[this.#i]!)) name += s[this.#i++];
      if (name === '')
        throw new InvalidArgumentError(
          'DOCKERFILE_SUBST',
          `bad substitution: missing variable name in: ${s}`,
        );
      this.used.add(name);
      const value = this.#lookup(name);
      if (s[this.#i] === '}') {
        this.#i++;
        return value ?? '';
      }
      let op = s[this.#i]!;
      let colon = false;
      if (op === ':') {
        colon = true;
        this.#i++;
        op = s[this.#i]!;
      }
      if (!['-', '+', '?'].includes(op))
        throw new InvalidArgumentError(
          'DOCKERFILE_SUBST',
          `unsupported modifier (${op}) in substitution: ${s}`,
        );
      this.#i++;
      const word = this.#braceWord();
      const set = colon ? value !== undefined && value !== '' : value !== undefined;
      switch (op) {
        case '-':
          return set ? value! : word;
        case '+':
          return set ? word : '';
        default:
          if (!set)
            throw new InvalidArgumentError(
              'DOCKERFILE_SUBST',
              `${name}: ${word || 'is not allowed to be unset'}`,
            );
          return value!;
      }
    }
    if (c !== undefined && NAME_START.test(c)) {
      let name = '';
      while (this.#i < s.length && NAME_CHAR.test(s[this.#i]!)) name += s[this.#i++];
      this.used.add(name);
      return this.#lookup(name) ?? '';
    }
    return '$';
  }

  /** The word of `${VAR:-word}` up to the matching `}`, itself expanded (nesting allowed). */
  #braceWord(): string {
    const s = this.#s;
    let depth = 0;
    const start = this.#i;
    while (this.#i < s.length) {
      const c = s[this.#i]!;
      if (c === this.#esc) this.#i++;
      else if (c === '{' && s[this.#i - 1] === '$') depth++;
      else if (c === '}') {
        if (depth === 0) break;
        depth--;
      }
      this.#i++;
    }
    if (this.#i >= s.length)
      throw new InvalidArgumentError('DOCKERFILE_SUBST', `missing '}' in substitution: ${s}`);
    const raw = s.slice(start, this.#i);
    this.#i++; // }
    const inner = new Lexer(raw, this.#lookup, this.#esc, false, this.#depth + 1);
    const out = inner.run();
    for (const u of inner.used) this.used.add(u);
    return out;
  }
}

/** The start of a long word, for error messages. */
function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}

/** One word: variables expanded, quotes and escapes removed. */
export function expandWord(word: string, lookup: Lookup, esc: Esc = '\\'): string {
  const lx = new Lexer(word, lookup, esc, false);
  lx.run();
  return lx.words[0] ?? '';
}

/** Expands, then splits on unquoted whitespace (EXPOSE, VOLUME in shell form). */
export function expandWords(text: string, lookup: Lookup, esc: Esc = '\\'): string[] {
  const lx = new Lexer(text, lookup, esc, true);
  lx.run();
  return lx.words;
}

/** Names of the variables a word refers to (for checks such as UndefinedVar). */
export function variablesIn(word: string, esc: Esc = '\\'): string[] {
  const lx = new Lexer(word, () => undefined, esc, false);
  try {
    lx.run();
  } catch {
    /* a broken word still reports what it named before the error */
  }
  return [...lx.used];
}
