// Variable interpolation in compose files (spec chapter "Interpolation"): `$VAR`, `${VAR}`, the
// default / required / alternative forms with and without `:`, nesting inside the word, `$$`.
// Applies to values only, never to keys, before files are merged.

/** Looks a variable up; undefined means unset (an empty string is set). */
export type Lookup = (name: string) => string | undefined;

export class InterpolationError extends Error {
  /** The path of the value in the document (`services.web.image`). */
  readonly path: readonly (string | number)[];
  constructor(message: string, path: readonly (string | number)[]) {
    super(message);
    this.name = 'InterpolationError';
    this.path = path;
  }
}

const NAME_START = /[_a-zA-Z]/;
const NAME_CHAR = /[_a-zA-Z0-9]/;
/** Nesting bound: a hostile file cannot recurse the parser into a stack overflow. */
const MAX_DEPTH = 32;

export interface SubstituteOptions {
  readonly lookup: Lookup;
  /** Called once per unset variable used without a default (Compose warns and substitutes ""). */
  readonly onUnset?: (name: string) => void;
}

/** Substitutes one string. Throws Error (no path) on a malformed template or a missing required variable. */
export function substitute(input: string, opts: SubstituteOptions, depth = 0): string {
  if (depth > MAX_DEPTH) throw new Error(`variables nested more than ${MAX_DEPTH} deep in "${input}"`);
  if (!input.includes('$')) return input;
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = matchingBrace(input, i + 2);
      if (end < 0)
        throw new Error(
          `invalid interpolation format for "${input}": "\${" is never closed; write "$$" for a literal "$"`,
        );
      out += expandBraced(input.slice(i + 2, end), input, opts, depth);
      i = end + 1;
      continue;
    }
    if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < input.length && NAME_CHAR.test(input[j]!)) j++;
      out += lookupValue(input.slice(i + 1, j), opts);
      i = j;
      continue;
    }
    // Not a variable: the `$` stays as written.
    out += '$';
    i++;
  }
  return out;
}

/** The index of the `}` closing a `${` whose body starts at `from`, or -1. */
function matchingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
    } else if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function lookupValue(name: string, opts: SubstituteOptions): string {
  const v = opts.lookup(name);
  if (v === undefined) {
    opts.onUnset?.(name);
    return '';
  }
  return v;
}

function expandBraced(body: string, whole: string, opts: SubstituteOptions, depth: number): string {
  let j = 0;
  while (j < body.length && NAME_CHAR.test(body[j]!)) j++;
  const name = body.slice(0, j);
  if (!name || !NAME_START.test(name[0]!)) {
    throw new Error(
      `invalid interpolation format for "${whole}": "\${${body}}" does not start with a variable name; write "$$" for a literal "$"`,
    );
  }
  const rest = body.slice(j);
  if (rest === '') return lookupValue(name, opts);
  const colon = rest.startsWith(':');
  const op = rest[colon ? 1 : 0];
  const word = rest.slice(colon ? 2 : 1);
  if (op !== '-' && op !== '?' && op !== '+') {
    throw new Error(
      `invalid interpolation format for "${whole}": unsupported "\${${body}}" (Compose supports :- - :? ? :+ +)`,
    );
  }
  const raw = opts.lookup(name);
  // With ':' an empty value counts as unset.
  const isSet = colon ? raw !== undefined && raw !== '' : raw !== undefined;
  switch (op) {
    case '-':
      return isSet ? raw! : substitute(word, opts, depth + 1);
    case '+':
      return isSet ? substitute(word, opts, depth + 1) : '';
    case '?':
      if (isSet) return raw!;
      throw new Error(
        `required variable ${name} is missing a value${word ? `: ${substitute(word, opts, depth + 1)}` : ''}`,
      );
  }
  return '';
}

/**
 * Interpolates every string value of a parsed compose document (keys stay as written). Values
 * that interpolation turned into numbers or booleans where the spec wants them are cast, as
 * Compose does, so `replicas: ${N}` validates.
 */
export function interpolateTree(tree: unknown, opts: SubstituteOptions): unknown {
  return walk(tree, [], opts);
}

function walk(node: unknown, path: (string | number)[], opts: SubstituteOptions): unknown {
  if (typeof node === 'string') {
    if (!node.includes('$')) return node;
    let v: string;
    try {
      v = substitute(node, opts);
    } catch (err) {
      throw new InterpolationError((err as Error).message, path);
    }
    return cast(v, path);
  }
  if (Array.isArray(node)) return node.map((x, i) => walk(x, [...path, i], opts));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      Object.defineProperty(out, k, {
        value: walk(v, [...path, k], opts),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return node;
}

/** Keys whose value the spec types as an integer, number or boolean (casts after interpolation). */
const INT_KEYS = new Set([
  'replicas',
  'scale',
  'retries',
  'cpu_count',
  'cpu_period',
  'cpu_quota',
  'cpu_rt_period',
  'cpu_rt_runtime',
  'cpu_shares',
  'oom_score_adj',
  'pids_limit',
  'target',
  'mode',
  'uid',
  'gid',
  'soft',
  'hard',
]);
const FLOAT_KEYS = new Set(['cpus', 'cpu_percent']);
const BOOL_KEYS = new Set([
  'init',
  'tty',
  'stdin_open',
  'privileged',
  'read_only',
  'oom_kill_disable',
  'disable',
  'external',
  'internal',
  'attachable',
  'enable_ipv6',
  'required',
  'nocopy',
  'create_host_path',
  'restart',
]);

function cast(v: string, path: readonly (string | number)[]): unknown {
  const key = path[path.length - 1];
  if (typeof key !== 'string') return v;
  // A service's `restart` is a policy string; only depends_on's `restart` is a boolean.
  if (INT_KEYS.has(key) && /^-?\d+$/.test(v)) return Number(v);
  if (FLOAT_KEYS.has(key) && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (BOOL_KEYS.has(key) && (key !== 'restart' || path.includes('depends_on'))) {
    const l = v.toLowerCase();
    if (['true', 'yes', 'y', 'on'].includes(l)) return true;
    if (['false', 'no', 'n', 'off'].includes(l)) return false;
  }
  return v;
}
