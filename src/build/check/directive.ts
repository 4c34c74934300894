// `# check=skip=Rule1,Rule2;error=true;experimental=all`: which rules run and whether findings fail.
// Read from the raw text as well as the parsed AST, so the directive still applies (and a bad one
// is still reported) when the rest of the file does not parse.

export interface CheckConfig {
  /** Every rule skipped (`skip=all`). */
  readonly skipAll: boolean;
  readonly skip: ReadonlySet<string>;
  /** `error=true`: any finding makes the check fail. */
  readonly error: boolean;
  /** Experimental rules enabled by name, or all of them. */
  readonly experimental: ReadonlySet<string> | 'all';
}

export const DEFAULT_CHECK_CONFIG: CheckConfig = {
  skipAll: false,
  skip: new Set(),
  error: false,
  experimental: new Set(),
};

export class CheckDirectiveError extends Error {}

const TRUE = new Set(['1', 't', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'false', 'FALSE', 'False']);

function list(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Parses the directive's value; throws CheckDirectiveError naming the bad part. */
export function parseCheckDirective(raw: string | undefined): CheckConfig {
  const value = (raw ?? '').trim();
  if (value === '') return DEFAULT_CHECK_CONFIG;
  let skipAll = false;
  let skip = new Set<string>();
  let error = false;
  let experimental: Set<string> | 'all' = new Set();
  for (const part of value.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq === -1) {
      throw new CheckDirectiveError(
        `invalid check option "${part.trim()}": use skip=<rules>|all, error=true|false or experimental=<rules>|all`,
      );
    }
    const key = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    switch (key) {
      case 'skip':
        if (v === 'all') skipAll = true;
        else skip = new Set(list(v));
        break;
      case 'error':
        // Go's strconv.ParseBool spellings, as Docker accepts them.
        if (TRUE.has(v)) error = true;
        else if (FALSE.has(v)) error = false;
        else
          throw new CheckDirectiveError(`invalid check option "error=${v}": use error=true or error=false`);
        break;
      case 'experimental':
        experimental = v === 'all' ? 'all' : new Set(list(v));
        break;
      default:
        throw new CheckDirectiveError(
          `invalid check option "${key}": the options are skip, error and experimental`,
        );
    }
  }
  return { skipAll, skip, error, experimental };
}

export interface RawDirective {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/**
 * The parser directives at the top of a Dockerfile (`# key=value` lines before the first blank
 * line, comment or instruction), as Docker reads them.
 */
export function rawDirectives(lines: readonly string[]): RawDirective[] {
  const out: RawDirective[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    // A repeated directive ends the directive block (Docker treats it as a comment).
    if (seen.has(key)) break;
    seen.add(key);
    out.push({ key, value: m[2]!, line: i + 1 });
  }
  return out;
}
