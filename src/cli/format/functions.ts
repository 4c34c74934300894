// Template functions: Go's text/template builtins and the docker CLI's extras (templates.go:
// json, split, join, title, lower, upper, pad, truncate), plus the identity replacements docker
// uses when it renders a table's header row.
import { sprint, sprintf, sprintln } from './gofmt.ts';
import { goJson, JsonUnsupportedValueError } from './gojson.ts';
import {
  compareStrings,
  goKind,
  goTypeName,
  isPrintRune,
  isTrue,
  lookupProperty,
  mapEntries,
  sliceItems,
  utf8Bytes,
  utf8Decode,
} from './values.ts';

/**
 * How an argument is checked and converted before the call, like Go's parameter types:
 * `value` (reflect.Value: passed as is, missing stays undefined), `any` (interface{}: missing
 * becomes null), `string`, `int`, `strings` ([]string).
 */
export type ParamType = 'value' | 'any' | 'string' | 'int' | 'strings';

export interface FuncSpec {
  readonly params: readonly ParamType[];
  /** Type of the variadic tail; absent for fixed arity. */
  readonly variadic?: ParamType;
  /** `call`: the first argument's template text is passed before the arguments. */
  readonly passCallee?: boolean;
  /** and/or: arguments are evaluated lazily and the call short-circuits. */
  readonly shortCircuit?: 'and' | 'or';
  /** Throws FuncError (or any Error) to report "error calling NAME: ...". */
  readonly call: (args: unknown[]) => unknown;
}

/** A function's own failure, reported as "error calling NAME: message". */
export class FuncError extends Error {}

function fail(msg: string): never {
  throw new FuncError(msg);
}

// ---------------------------------------------------------------------------------------------
// Comparison (Go's eq/lt semantics on basic kinds)

type BasicKind = 'invalid' | 'bool' | 'number' | 'string' | 'other';

function basicKind(v: unknown): BasicKind {
  switch (goKind(v)) {
    case 'nil':
      return 'invalid';
    case 'bool':
      return 'bool';
    case 'int':
    case 'float':
      return 'number';
    case 'string':
      return 'string';
    default:
      return 'other';
  }
}

const BAD_COMPARISON = 'incompatible types for comparison';
const BAD_COMPARISON_TYPE = 'invalid type for comparison';

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) fail('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of rest) {
    const k2 = basicKind(b);
    let truth = false;
    if (k1 !== k2) {
      if (k1 !== 'invalid' && k2 !== 'invalid') fail(BAD_COMPARISON);
    } else {
      switch (k1) {
        case 'invalid':
          truth = true;
          break;
        case 'bool':
        case 'string':
          truth = a === b;
          break;
        case 'number':
          // biome-ignore lint/suspicious/noDoubleEquals: number vs bigint compares by value
          truth = (a as number | bigint) == (b as number | bigint);
          break;
        default:
          if (a instanceof Date && b instanceof Date) truth = a.getTime() === b.getTime();
          else if (goKind(b) === 'func') truth = a === b;
          else fail(`non-comparable type ${sprintf('%s', b)}: ${goTypeName(b)}`);
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  if (k1 === 'invalid' || k1 === 'other') fail(BAD_COMPARISON_TYPE);
  const k2 = basicKind(b);
  if (k2 === 'invalid' || k2 === 'other') fail(BAD_COMPARISON_TYPE);
  if (k1 !== k2) fail(BAD_COMPARISON);
  switch (k1) {
    case 'bool':
      return fail(BAD_COMPARISON_TYPE);
    case 'string':
      return compareStrings(a as string, b as string) < 0;
    default:
      return (a as number | bigint) < (b as number | bigint);
  }
}

// ---------------------------------------------------------------------------------------------
// index, slice, len

function indexArg(v: unknown, cap: number): number {
  if (v === undefined || v === null) fail('cannot index slice/array with nil');
  if (goKind(v) !== 'int') fail(`cannot index slice/array with type ${goTypeName(v)}`);
  const x = Number(v);
  if (x < 0 || x > cap) fail(`index out of range: ${x}`);
  return x;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) fail('index of untyped nil');
  for (const ix of indexes) {
    if (item === undefined || item === null) fail('index of nil pointer');
    const kind = goKind(item);
    if (kind === 'string') {
      const bytes = utf8Bytes(item as string);
      const x = indexArg(ix, bytes.length);
      if (x === bytes.length) fail('reflect: string index out of range');
      item = bytes[x];
    } else if (kind === 'slice' || kind === 'bytes') {
      const items = sliceItems(item);
      const x = indexArg(ix, items.length);
      if (x === items.length) fail('reflect: slice index out of range');
      item = items[x];
    } else if (kind === 'map') {
      const map = item instanceof Map ? (item as Map<unknown, unknown>) : null;
      const stringKeys =
        map === null || (map.size > 0 && [...map.keys()].every((k) => typeof k === 'string'));
      if (stringKeys && typeof ix !== 'string') {
        fail(
          ix === undefined || ix === null
            ? 'value is nil; should be of type string'
            : `value has type ${goTypeName(ix)}; should be string`,
        );
      }
      if (map !== null) item = map.get(ix);
      else {
        const { value } = lookupProperty(item as object, ix as string);
        item = typeof value === 'function' ? undefined : value;
      }
    } else fail(`can't index item of type ${goTypeName(item)}`);
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) fail('slice of untyped nil');
  if (indexes.length > 3) fail(`too many slice indexes: ${indexes.length}`);
  const kind = goKind(item);
  let len: number;
  let bytes: Uint8Array | null = null;
  if (kind === 'string') {
    if (indexes.length === 3) fail('cannot 3-index slice a string');
    bytes = utf8Bytes(item as string);
    len = bytes.length;
  } else if (kind === 'slice' || kind === 'bytes') len = sliceItems(item).length;
  else fail(`can't slice item of type ${goTypeName(item)}`);
  const idx = [0, len, len];
  indexes.forEach((ix, k) => {
    idx[k] = indexArg(ix, len);
  });
  const [i, j, k] = idx as [number, number, number];
  if (i > j) fail(`invalid slice index: ${i} > ${j}`);
  if (indexes.length === 3 && j > k) fail(`invalid slice index: ${j} > ${k}`);
  if (bytes) return utf8Decode(bytes.subarray(i, j));
  if (item instanceof Uint8Array) return item.subarray(i, j);
  return sliceItems(item).slice(i, j);
}

function length(item: unknown): number {
  if (item === undefined) fail('reflect: call of reflect.Value.Type on zero Value');
  if (item === null) fail('len of nil pointer');
  switch (goKind(item)) {
    case 'string':
      return utf8Bytes(item as string).length;
    case 'slice':
    case 'bytes':
      return sliceItems(item).length;
    case 'map':
      return mapEntries(item as object).length;
    default:
      return fail(`len of type ${goTypeName(item)}`);
  }
}

function call(callee: string, fn: unknown, ...args: unknown[]): unknown {
  if (fn === undefined || fn === null) fail('call of nil');
  if (typeof fn !== 'function') fail(`non-function ${callee} of type ${goTypeName(fn)}`);
  return (fn as (...a: unknown[]) => unknown)(...args);
}

// ---------------------------------------------------------------------------------------------
// html, js, urlquery

function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  // Go prints a nil argument here as the template would print a missing value.
  return sprint(...args.map((a) => (a === null || a === undefined ? '<no value>' : a)));
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => {
    switch (c) {
      case '\0':
        return '\uFFFD';
      case '"':
        return '&#34;';
      case "'":
        return '&#39;';
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      default:
        return '&gt;';
    }
  });
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
      default:
        break;
    }
    if (cp < 0x20) out += `\\u00${cp.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (cp < 0x80 || isPrintRune(cp)) out += ch;
    else out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// docker's functions

/**
 * Go's per-rune case mapping: no multi-character expansions (upper-casing ß stays ß); a
 * lower-case expansion keeps its first rune (İ → i, as Go's unicode.ToLower).
 */
function mapRunes(s: string, fn: (ch: string) => string, keepFirst: boolean): string {
  let out = '';
  for (const ch of s) {
    const m = [...fn(ch)];
    out += m.length === 1 || (keepFirst && m.length > 0) ? m[0] : ch;
  }
  return out;
}

const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}]$/u;
const SPACE = /^\s$/u;

function isSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (cp <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (LETTER_OR_DIGIT.test(ch)) return false;
  return SPACE.test(ch);
}

/** strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? mapRunes(ch, (c) => c.toUpperCase(), false) : ch;
    prev = ch;
  }
  return out;
}

/** strings.Split: an empty separator splits after each UTF-8 sequence. */
function split(s: string, sep: string): string[] {
  if (sep === '') return [...s];
  return s.split(sep);
}

/** The `json` template function: compact, no HTML escaping; unencodable values print nothing. */
export function jsonFunction(v: unknown): string {
  try {
    return goJson(v);
  } catch (e) {
    if (e instanceof JsonUnsupportedValueError) return '';
    throw e;
  }
}

function truncate(s: string, n: number): string {
  const bytes = utf8Bytes(s);
  if (bytes.length < n) return s;
  if (n < 0) fail(`runtime error: slice bounds out of range [:${n}]`);
  return utf8Decode(bytes.subarray(0, n));
}

function pad(s: string, prefix: number, suffix: number): string {
  if (s === '') return s;
  if (prefix < 0 || suffix < 0) fail('strings: negative Repeat count');
  return ' '.repeat(prefix) + s + ' '.repeat(suffix);
}

// ---------------------------------------------------------------------------------------------
// Tables

const fixed = (params: ParamType[], fn: (...a: never[]) => unknown): FuncSpec => ({
  params,
  call: (args) => (fn as (...a: unknown[]) => unknown)(...args),
});
const variadic = (params: ParamType[], rest: ParamType, fn: (...a: never[]) => unknown): FuncSpec => ({
  params,
  variadic: rest,
  call: (args) => (fn as (...a: unknown[]) => unknown)(...args),
});

export const BUILTIN_FUNCS: ReadonlyMap<string, FuncSpec> = new Map<string, FuncSpec>([
  ['and', { params: ['value'], variadic: 'value', shortCircuit: 'and', call: () => undefined }],
  ['or', { params: ['value'], variadic: 'value', shortCircuit: 'or', call: () => undefined }],
  ['not', fixed(['value'], (v: unknown) => !isTrue(v))],
  ['len', fixed(['value'], length)],
  ['index', variadic(['value'], 'value', index)],
  ['slice', variadic(['value'], 'value', slice)],
  ['call', { ...variadic(['value'], 'value', call), passCallee: true }],
  ['eq', variadic(['value'], 'value', eq)],
  ['ne', fixed(['value', 'value'], (a: unknown, b: unknown) => !eq(a, b))],
  ['lt', fixed(['value', 'value'], lt)],
  ['le', fixed(['value', 'value'], (a: unknown, b: unknown) => lt(a, b) || eq(a, b))],
  ['gt', fixed(['value', 'value'], (a: unknown, b: unknown) => !(lt(a, b) || eq(a, b)))],
  ['ge', fixed(['value', 'value'], (a: unknown, b: unknown) => !lt(a, b))],
  ['html', variadic([], 'any', (...a: unknown[]) => htmlEscape(evalArgs(a)))],
  ['js', variadic([], 'any', (...a: unknown[]) => jsEscape(evalArgs(a)))],
  ['urlquery', variadic([], 'any', (...a: unknown[]) => queryEscape(evalArgs(a)))],
  ['print', variadic([], 'any', sprint)],
  ['println', variadic([], 'any', sprintln)],
  ['printf', variadic(['string'], 'any', sprintf)],
  // docker/cli templates.basicFunctions
  ['json', fixed(['any'], jsonFunction)],
  ['split', fixed(['string', 'string'], split)],
  ['join', fixed(['strings', 'string'], (l: string[], sep: string) => l.join(sep))],
  ['title', fixed(['string'], title)],
  ['lower', fixed(['string'], (s: string) => mapRunes(s, (c) => c.toLowerCase(), true))],
  ['upper', fixed(['string'], (s: string) => mapRunes(s, (c) => c.toUpperCase(), false))],
  ['pad', fixed(['string', 'int', 'int'], pad)],
  ['truncate', fixed(['string', 'int'], truncate)],
]);

/**
 * docker/cli templates.HeaderFunctions: a table's header row is rendered with these in place of
 * the basic ones so `{{.Name | upper}}` keeps the header text as given (`pad` is not replaced).
 */
export const HEADER_FUNCS: ReadonlyMap<string, FuncSpec> = new Map<string, FuncSpec>([
  ['json', fixed(['string'], (v: string) => v)],
  ['split', fixed(['string', 'string'], (v: string) => v)],
  ['join', fixed(['string', 'string'], (v: string) => v)],
  ['title', fixed(['string'], (v: string) => v)],
  ['lower', fixed(['string'], (v: string) => v)],
  ['upper', fixed(['string'], (v: string) => v)],
  ['truncate', fixed(['string', 'int'], (v: string) => v)],
]);

/** A plain JS function as a template function: any arity, arguments as `any`. */
export function userFunc(fn: (...args: unknown[]) => unknown): FuncSpec {
  return { params: [], variadic: 'any', call: (args) => fn(...args) };
}
