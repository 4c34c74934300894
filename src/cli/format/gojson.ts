// Go's encoding/json output for JS values (see values.ts for the value model).
//
// Strings are escaped as Go does (\b \f \n \r \t short forms, other control characters as
// \u00xx, U+2028/U+2029 always escaped, invalid UTF-16 as \ufffd); `<`, `>` and `&` become
// \u003c \u003e \u0026 only with `escapeHTML` (json.Marshal's default, which docker's `json`
// template function turns off). Numbers print like Go's float64 encoding, which matches
// JSON.stringify. Plain objects keep their key order, as a Go struct keeps its field order;
// Maps are Go maps and encode with sorted keys. Dates encode as RFC 3339 strings, Uint8Arrays as
// base64, objects with toJSON() through it.
import { mapEntries, objectKeys } from './values.ts';

export interface GoJsonOptions {
  /** Escape <, > and & as \u003c \u003e \u0026 (json.Marshal does; docker's `json` function doesn't). */
  readonly escapeHTML?: boolean | undefined;
  /** MarshalIndent's indent, e.g. four spaces for `docker inspect`; compact when absent. */
  readonly indent?: string | undefined;
}

/** Thrown for values Go's encoder rejects (NaN, infinities, cycles). */
export class JsonUnsupportedValueError extends Error {}

const HEX = '0123456789abcdef';

export function goJsonString(s: string, escapeHTML: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\\ufffd';
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\\ufffd';
      continue;
    }
    switch (c) {
      case 0x22:
        out += '\\"';
        continue;
      case 0x5c:
        out += '\\\\';
        continue;
      case 0x0a:
        out += '\\n';
        continue;
      case 0x0d:
        out += '\\r';
        continue;
      case 0x09:
        out += '\\t';
        continue;
      case 0x08:
        out += '\\b';
        continue;
      case 0x0c:
        out += '\\f';
        continue;
      case 0x2028:
        out += '\\u2028';
        continue;
      case 0x2029:
        out += '\\u2029';
        continue;
      default:
        break;
    }
    if (c < 0x20 || (escapeHTML && (c === 0x3c || c === 0x3e || c === 0x26))) {
      out += `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
      continue;
    }
    out += s[i];
  }
  return `${out}"`;
}

function rfc3339(d: Date): string {
  if (Number.isNaN(d.getTime()))
    throw new JsonUnsupportedValueError('json: error calling MarshalJSON for type time.Time');
  const iso = d.toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

function goJsonNumber(n: number): string {
  if (!Number.isFinite(n)) throw new JsonUnsupportedValueError(`json: unsupported value: ${n}`);
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

/** Encodes a value as Go's encoding/json would. */
export function goJson(value: unknown, options: GoJsonOptions = {}): string {
  const escapeHTML = options.escapeHTML ?? false;
  const indent = options.indent ?? '';
  const seen = new Set<object>();

  const encode = (v: unknown, depth: number): string => {
    switch (typeof v) {
      case 'undefined':
      case 'function':
      case 'symbol':
        return 'null';
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        return goJsonNumber(v);
      case 'bigint':
        return v.toString();
      case 'string':
        return goJsonString(v, escapeHTML);
      default:
        break;
    }
    if (v === null) return 'null';
    const obj = v as object;
    if (obj instanceof Date) return goJsonString(rfc3339(obj), escapeHTML);
    if (obj instanceof Uint8Array) return `"${Buffer.from(obj).toString('base64')}"`;
    if (seen.has(obj)) throw new JsonUnsupportedValueError('json: unsupported value: encountered a cycle');
    seen.add(obj);
    try {
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function' && !(obj instanceof Map)) {
        return encode((toJSON as () => unknown).call(obj), depth);
      }
      const inner = indent ? `\n${indent.repeat(depth + 1)}` : '';
      const outer = indent ? `\n${indent.repeat(depth)}` : '';
      if (Array.isArray(obj) || (ArrayBuffer.isView(obj) && !(obj instanceof DataView))) {
        const items = Array.from(obj as ArrayLike<unknown>);
        if (items.length === 0) return '[]';
        return `[${inner}${items.map((x) => encode(x, depth + 1)).join(`,${inner}`)}${outer}]`;
      }
      let entries: [string, unknown][];
      if (obj instanceof Map) entries = mapEntries(obj).map(([k, x]) => [String(k), x]);
      else {
        entries = [];
        for (const k of objectKeys(obj)) {
          const x = Reflect.get(obj, k);
          if (x !== undefined && typeof x !== 'function' && typeof x !== 'symbol') entries.push([k, x]);
        }
      }
      if (entries.length === 0) return '{}';
      const sep = indent ? ': ' : ':';
      const parts = entries.map(([k, x]) => `${goJsonString(k, escapeHTML)}${sep}${encode(x, depth + 1)}`);
      return `{${inner}${parts.join(`,${inner}`)}${outer}}`;
    } finally {
      seen.delete(obj);
    }
  };

  return encode(value, 0);
}
