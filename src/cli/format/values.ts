// How JS values stand in for Go's dynamic values in templates, fmt and json.
//
//   undefined            Go's "invalid" value: a missing map key / field. Prints `<no value>`.
//   null                 a nil pointer/interface. Prints `<nil>`.
//   boolean              bool
//   number               int when a safe integer, else float64. JS cannot tell Go's `1.0`
//                        from `1`; docker's data are typed structs whose integers are ints.
//                        Float verbs (%f %e %g) format integral numbers as floats.
//   bigint               int
//   string               string (len/slice/index work on its UTF-8 bytes, as Go's do)
//   array / typed array  a slice ([]string when every element is a string, else []interface {})
//   Uint8Array           []byte
//   Map, other objects   a map: printed `map[k:v]` with sorted keys, ranged in key order. An
//                        object's fields are its own enumerable properties plus getters on its
//                        class; function-valued properties are methods (called, never printed).
//   Date                 time.Time
//   function             a func value

export type GoKind =
  | 'nil'
  | 'bool'
  | 'int'
  | 'float'
  | 'string'
  | 'slice'
  | 'bytes'
  | 'map'
  | 'time'
  | 'func';

export function isGoInt(n: number): boolean {
  return Number.isSafeInteger(n);
}

export function goKind(v: unknown): GoKind {
  switch (typeof v) {
    case 'undefined':
      return 'nil';
    case 'boolean':
      return 'bool';
    case 'number':
      return isGoInt(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'string';
    case 'function':
    case 'symbol':
      return 'func';
    default:
      if (v === null) return 'nil';
      if (Array.isArray(v)) return 'slice';
      if (v instanceof Uint8Array) return 'bytes';
      if (ArrayBuffer.isView(v)) return 'slice';
      if (v instanceof Date) return 'time';
      return 'map';
  }
}

/** Elements of a slice-kind value. */
export function sliceItems(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<unknown>);
  }
  return [];
}

/** Go's reflect type name for a value, as fmt's `%T` and error messages print it. */
export function goTypeName(v: unknown): string {
  switch (goKind(v)) {
    case 'nil':
      return '<nil>';
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'string':
      return 'string';
    case 'bytes':
      return '[]uint8';
    case 'slice': {
      const items = sliceItems(v);
      return items.length > 0 && items.every((x) => typeof x === 'string') ? '[]string' : '[]interface {}';
    }
    case 'time':
      return 'time.Time';
    case 'func':
      return 'func()';
    case 'map':
      return 'map[string]interface {}';
  }
}

/**
 * Finds a field on an object the way templates see it: own properties and anything its class
 * chain defines (getters, methods), but nothing from Object.prototype.
 */
export function lookupProperty(obj: object, name: string): { found: boolean; value: unknown } {
  if (name === 'constructor' && !Object.hasOwn(obj, name)) return { found: false, value: undefined };
  let o: object | null = obj;
  while (o !== null && o !== Object.prototype) {
    if (Object.getOwnPropertyDescriptor(o, name) !== undefined) {
      return { found: true, value: Reflect.get(obj, name) };
    }
    o = Object.getPrototypeOf(o) as object | null;
  }
  return { found: false, value: undefined };
}

/** Field names of an object: own enumerable keys plus getters defined by its class chain. */
export function objectKeys(obj: object): string[] {
  const keys = new Set(Object.keys(obj));
  let proto = Object.getPrototypeOf(obj) as object | null;
  while (proto !== null && proto !== Object.prototype) {
    for (const k of Object.getOwnPropertyNames(proto)) {
      if (k !== 'constructor' && Object.getOwnPropertyDescriptor(proto, k)?.get) keys.add(k);
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return [...keys];
}

export type MapKey = string | number;

/** Compares strings by code point, which is the order of their UTF-8 bytes (Go's order). */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

// Moves surrogates (astral code points) above the rest of the BMP.
function fixup(c: number): number {
  if (c < 0xd800) return c;
  return c >= 0xe000 ? c - 0x800 : c + 0x2000;
}

function compareKeys(a: MapKey, b: MapKey): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return compareStrings(a, b);
}

/** A map-kind value's entries, sorted by key as Go's fmt and range do. */
export function mapEntries(v: object): [MapKey, unknown][] {
  let entries: [MapKey, unknown][];
  if (v instanceof Map) {
    entries = [...(v as Map<unknown, unknown>).entries()].map(([k, x]) => [
      typeof k === 'number' ? k : String(k),
      x,
    ]);
  } else {
    entries = [];
    for (const k of objectKeys(v)) {
      const x = Reflect.get(v, k);
      if (x !== undefined && typeof x !== 'function') entries.push([k, x]);
    }
  }
  return entries.sort((a, b) => compareKeys(a[0], b[0]));
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
export function isTrue(v: unknown): boolean {
  switch (goKind(v)) {
    case 'nil':
      return false;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return typeof v === 'bigint' ? v !== 0n : v !== 0;
    case 'string':
      return (v as string).length > 0;
    case 'slice':
    case 'bytes':
      return sliceItems(v).length > 0;
    case 'map':
      return mapEntries(v as object).length > 0;
    case 'time':
    case 'func':
      return true;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

export function utf8Decode(b: Uint8Array): string {
  return decoder.decode(b);
}

export function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

/** Number of code points, which is how Go's fmt measures width. */
export function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrintRune(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  return PRINTABLE.test(String.fromCodePoint(cp));
}
