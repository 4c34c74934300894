// The `created_by` text of each build step, worded as Docker's legacy builder writes it, so
// `docker history` (and `--cache-from` matching against images Docker built) reads the same.
// Docker's builder formats with Go's fmt verbs (%q, %v), so those rules are reproduced here.

/** The shell Docker puts in front of metadata steps (the SHELL in effect). */
const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** A metadata-only step (CMD, ENV, LABEL...): `<shell> #(nop)  <text>` (two spaces, as Docker). */
export function nopText(shell: readonly string[] | undefined, text: string): string {
  return [...(shell ?? DEFAULT_SHELL), '#(nop) ', text].join(' ');
}

/** WORKDIR, COPY and ADD are committed with the comment inside one word: one space. */
export function nopInlineText(shell: readonly string[] | undefined, text: string): string {
  return [...(shell ?? DEFAULT_SHELL), `#(nop) ${text}`].join(' ');
}

/** RUN: the build args in scope as `|N k=v …`, then the argv (no `RUN` word, as Docker). */
export function runText(argEnv: readonly string[], argv: readonly string[]): string {
  return `${argEnv.length > 0 ? `|${argEnv.length} ${argEnv.join(' ')} ` : ''}${argv.join(' ')}`;
}

/**
 * COPY/ADD: `COPY file:<hex> in /dest ` (trailing space included, as Docker). `file:` for one file,
 * `dir:` for one directory, `multi:` for several sources; the hex is Berth's content checksum.
 */
export function copyText(step: {
  readonly kind: 'COPY' | 'ADD';
  readonly sourceKind: 'file' | 'dir' | 'multi';
  readonly checksum: string;
  /** The destination as written (after expansion), not resolved against WORKDIR. */
  readonly dest: string;
  readonly chown?: string | undefined;
}): string {
  // Docker writes `--chown=1:2file:…` with no space between them; kept for identical text.
  const chown = step.chown ? `--chown=${step.chown}` : '';
  return `${step.kind} ${chown}${step.sourceKind}:${step.checksum.replace(/^sha256:/, '')} in ${step.dest} `;
}

/** Go's `%v` of a `[]string`: `[a b]`. */
export function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

/** Go's `%q` of a `[]string`: `["a" "b"]`. */
export function goQuoteList(items: readonly string[]): string {
  return `[${items.map((s) => goQuote(s)).join(' ')}]`;
}

const ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
};

/** Go's strconv.Quote (and QuoteRune with `'`): printable characters kept, others escaped. */
export function goQuote(s: string, quote: '"' | "'" = '"'): string {
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote) out += `\\${ch}`;
    else if (ESCAPES[ch] !== undefined) out += ESCAPES[ch];
    else if (ch === ' ' || !/[\p{C}\p{Z}]/u.test(ch)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + quote;
}

/** Go's `%q` of an int: the quoted rune (`'\x00'` for 0, `'\x03'` for 3). */
export function goQuoteRune(n: number): string {
  const valid = Number.isInteger(n) && n >= 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff);
  return goQuote(String.fromCodePoint(valid ? n : 0xfffd), "'");
}

/** Go's time.Duration String() of a count of nanoseconds: `0s`, `500ms`, `1.5s`, `1m30s`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = BigInt(Math.abs(Math.trunc(ns)));
  const sign = neg ? '-' : '';
  if (u < 1000n) return `${sign}${u}ns`;
  const frac = (v: bigint, digits: number): string => {
    const s = v.toString().padStart(digits, '0').replace(/0+$/, '');
    return s === '' ? '' : `.${s}`;
  };
  if (u < 1_000_000n) return `${sign}${u / 1000n}${frac(u % 1000n, 3)}µs`;
  if (u < 1_000_000_000n) return `${sign}${u / 1_000_000n}${frac(u % 1_000_000n, 6)}ms`;
  let out = '';
  const secs = u / 1_000_000_000n;
  const sub = u % 1_000_000_000n;
  out = `${secs % 60n}${frac(sub, 9)}s`;
  u = secs / 60n;
  if (u > 0n) {
    out = `${u % 60n}m${out}`;
    const hours = u / 60n;
    if (hours > 0n) out = `${hours}h${out}`;
  }
  return sign + out;
}

/** A healthcheck as Docker 20.10's builder prints it (`%q` of its HealthConfig struct). */
export function healthcheckText(hc: {
  readonly Test?: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly Retries?: number;
}): string {
  const d = (v: number | undefined) => goQuote(goDuration(v ?? 0));
  return `HEALTHCHECK &{${goQuoteList(hc.Test ?? [])} ${d(hc.Interval)} ${d(hc.Timeout)} ${d(hc.StartPeriod)} ${goQuoteRune(hc.Retries ?? 0)}}`;
}
