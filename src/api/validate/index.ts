// Request bodies checked against the Engine API's types before a handler sees them, so nothing a
// Go client cannot decode is ever stored (a `"Labels":{"a":1}` record would break `docker ps` for
// every container). The schemas are generated from the spec (scripts/gen-api-schemas.ts); this
// module first makes the body what Go's decoder would make of it, then checks every value's type:
//  - null leaves a field at its zero value (the field is dropped; in a map or list it becomes
//    "", 0, false, {} or []),
//  - field names match case-insensitively, as in encoding/json (the value is moved to the
//    spec's spelling, so a wrong type under another case is caught too and never echoed back),
//  - unknown fields are ignored, integers must be whole and inside their Go type's range.
// The check walks the schema itself: nothing is compiled, so start-up and the first request pay
// nothing (ajv, compiling the create schema, took ~0.1-0.4 s on first use, and its standalone
// code was 2.8 MB). test/unit/api/validate-oracle.test.ts holds the walk to ajv's verdicts.
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { type BodySchema, GO_INT_BOUNDS, type JsonType } from './schema-types.ts';
import { QUERY_SCHEMAS, type QuerySchemaName } from './query-schemas.ts';
import { SCHEMAS as BODY_SCHEMAS, type SchemaName as BodySchemaName } from './schemas.gen.ts';

export type SchemaName = BodySchemaName | QuerySchemaName;
const SCHEMAS: Record<SchemaName, BodySchema> = { ...BODY_SCHEMAS, ...QUERY_SCHEMAS };

function types(s: BodySchema): readonly JsonType[] {
  return s.type === undefined ? [] : typeof s.type === 'string' ? [s.type] : s.type;
}

/** Go's zero value for a JSON null inside a map or a list. */
function zero(s: BodySchema): unknown {
  const all = types(s);
  const t = all.find((x) => x !== 'null');
  // A pointer to a scalar (build args' map[string]*string) keeps its nil.
  if (all.includes('null') && t !== 'object' && t !== 'array') return null;
  switch (t) {
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'object':
      return {};
    case 'array':
      return [];
    default:
      return null;
  }
}

const foldCache = new WeakMap<object, Map<string, string>>();

/** Lower-cased property name → the spec's spelling, per properties object. */
function folded(props: Readonly<Record<string, BodySchema>>): Map<string, string> {
  let m = foldCache.get(props);
  if (!m) {
    m = new Map(Object.keys(props).map((k) => [k.toLowerCase(), k]));
    foldCache.set(props, m);
  }
  return m;
}

/** Rewrites `v` in place as Go's decoder reads it (see the header); returns the new value. */
function normalize(s: BodySchema, v: unknown, depth = 0): unknown {
  // The JSON parser bounds nesting already; this bound only keeps a hostile body cheap.
  if (depth > 64 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const item = s.items;
    if (!item || !types(s).includes('array')) return v;
    for (let i = 0; i < v.length; i++) v[i] = v[i] === null ? zero(item) : normalize(item, v[i], depth + 1);
    return v;
  }
  if (!types(s).includes('object')) return v;
  const rec = v as Record<string, unknown>;
  const props = s.properties;
  for (const key of Object.keys(rec)) {
    const val = rec[key];
    const name = props ? (Object.hasOwn(props, key) ? key : folded(props).get(key.toLowerCase())) : undefined;
    if (props && name !== undefined) {
      if (name !== key) delete rec[key];
      if (val === null) delete rec[name];
      else rec[name] = normalize(props[name]!, val, depth + 1);
    } else if (s.additionalProperties) {
      rec[key] =
        val === null ? zero(s.additionalProperties) : normalize(s.additionalProperties, val, depth + 1);
    }
  }
  return rec;
}

/** A value of the wrong type: where, what the schema wanted, what was there. */
interface Mismatch {
  readonly path: readonly string[];
  readonly schema: BodySchema;
  readonly value: unknown;
}

function kindOk(s: BodySchema, v: unknown): boolean {
  const t = types(s);
  if (t.length === 0) return true; // the spec leaves it open (interface{} in Go)
  if (v === null) return t.includes('null');
  if (Array.isArray(v)) return t.includes('array');
  switch (typeof v) {
    case 'string':
      return t.includes('string');
    case 'boolean':
      return t.includes('boolean');
    case 'number':
      if (t.includes('number')) return Number.isFinite(v);
      if (!t.includes('integer') || !Number.isInteger(v)) return false;
      if (s.goType) {
        const [min, maxExcl] = GO_INT_BOUNDS[s.goType] ?? GO_INT_BOUNDS.int64!;
        return v >= min && v < maxExcl;
      }
      return true;
    case 'object':
      return t.includes('object');
    default:
      return false;
  }
}

/**
 * The first value (in document order) whose JSON type the schema does not allow. The walk follows
 * the schema, so its depth is the schema's (a few levels), whatever the body's nesting.
 */
function mismatch(s: BodySchema, v: unknown, path: string[]): Mismatch | undefined {
  if (!kindOk(s, v)) return { path, schema: s, value: v };
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    if (!s.items) return undefined;
    for (let i = 0; i < v.length; i++) {
      const m = mismatch(s.items, v[i], [...path, String(i)]);
      if (m) return m;
    }
    return undefined;
  }
  const rec = v as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    const sub = s.properties && Object.hasOwn(s.properties, key) ? s.properties[key] : s.additionalProperties;
    if (!sub) continue; // unknown fields are ignored, as by Go's decoder
    const m = mismatch(sub, rec[key], [...path, key]);
    if (m) return m;
  }
  return undefined;
}

/** Go's name for the type a schema decodes into, for messages. */
export function goTypeName(s: BodySchema): string {
  if (s.goType) return s.goType;
  const t = types(s).filter((x) => x !== 'null');
  if (t.includes('string') && t.includes('array')) return 'string or []string';
  switch (t[0]) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return 'float64';
    case 'integer':
      return 'int64';
    case 'array':
      return `[]${s.items ? goTypeName(s.items) : 'interface {}'}`;
    case 'object':
      if (s.properties) return 'object';
      return `map[string]${s.additionalProperties ? goTypeName(s.additionalProperties) : 'interface {}'}`;
    default:
      return 'value';
  }
}

/**
 * The JSON kind of a value as Go's errors name it: "string", "bool", ...; a number only shows
 * its value when it was meant for a number field ("number 1.5"), as in encoding/json.
 */
function jsonKind(v: unknown, numeric: boolean): string {
  if (typeof v === 'number') {
    if (!numeric) return 'number';
    // The exact double below 1e21 (2^63 reads 9223372036854775808, as the client wrote it).
    return `number ${Number.isInteger(v) && Math.abs(v) < 1e21 ? BigInt(v).toString() : String(v)}`;
  }
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

/** `[HostConfig, PortBindings, 80/tcp, 0]` → `HostConfig.PortBindings.80/tcp[0]`. */
function fieldPath(segments: readonly string[]): string {
  let out = '';
  for (const seg of segments)
    out += /^\d+$/.test(seg) && out !== '' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

function describe(m: Mismatch, what: string, root: string): string {
  const s = m.schema;
  const inner = fieldPath(m.path);
  const field =
    root === '' ? inner : inner === '' ? root : /^\[/.test(inner) ? root + inner : `${root}.${inner}`;
  const into = field === '' ? `the ${what} value` : `field ${field}`;
  const numeric = types(s).some((t) => t === 'integer' || t === 'number');
  const base = `json: cannot unmarshal ${jsonKind(m.value, numeric)} into ${into} of type ${goTypeName(s)}`;
  if (s.goType && typeof m.value === 'number') {
    const [min, maxExcl] = GO_INT_BOUNDS[s.goType] ?? GO_INT_BOUNDS.int64!;
    return `${base}: give a whole number from ${BigInt(min)} to ${BigInt(maxExcl) - 1n}`;
  }
  return base;
}

const WHAT: Record<SchemaName, string> = {
  containerCreate: 'container create',
  containerUpdate: 'container update',
  commit: 'commit',
  execCreate: 'exec create',
  execStart: 'exec start',
  auth: 'auth',
  volumeCreate: 'volume create',
  networkCreate: 'network create',
  networkConnect: 'network connect',
  networkDisconnect: 'network disconnect',
  buildArgs: 'buildargs',
  buildLabels: 'labels',
  buildUlimits: 'ulimits',
};

/**
 * The body as Go would decode it into the endpoint's type, or a 400-class error naming the field
 * and the type it needs. An empty body or a JSON null is `undefined` (Go keeps the zero value).
 * `root` prefixes field names (a query parameter's name).
 */
export function decodeBody<T>(name: SchemaName, body: unknown, root = ''): T | undefined {
  if (body === undefined || body === null) return undefined;
  const schema = SCHEMAS[name];
  const value = normalize(schema, body);
  const m = mismatch(schema, value, []);
  if (m) throw new InvalidArgumentError('INVALID_BODY_TYPE', describe(m, WHAT[name], root));
  return value as T;
}

/** A query parameter carrying JSON (`buildargs`, `labels`, ...), decoded like a body. */
export function decodeJsonParam<T>(q: URLSearchParams, param: string, name: QuerySchemaName): T | undefined {
  const raw = q.get(param);
  if (raw === null || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw) as unknown;
  } catch (err) {
    throw new InvalidArgumentError(
      'INVALID_PARAMETER',
      `invalid ${param}: not valid JSON (${(err as Error).message})`,
    );
  }
  return decodeBody<T>(name, parsed, param);
}
