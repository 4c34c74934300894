// The body check is a small walk over the generated schemas (no compile step at run time); ajv,
// a full JSON-schema validator, is the oracle: on valid, mutated and random bodies both must give
// the same verdict. (fast-check, fixed seed; BERTH_FUZZ_SEED=<n> to try others.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { decodeBody, type SchemaName } from '../../../src/api/validate/index.ts';
import { type BodySchema, jsonSchemaOf } from '../../../src/api/validate/schema-types.ts';
import { QUERY_SCHEMAS } from '../../../src/api/validate/query-schemas.ts';
import { SCHEMAS as BODY_SCHEMAS } from '../../../src/api/validate/schemas.gen.ts';

const SCHEMAS: Record<SchemaName, BodySchema> = { ...BODY_SCHEMAS, ...QUERY_SCHEMAS };

const ajv = new Ajv({ strict: false, allErrors: false });
const SEED = Number(process.env.BERTH_FUZZ_SEED ?? 7);

/** A value that fits the schema (fast-check builds it from the schema itself). */
function valid(s: BodySchema, depth = 0): fc.Arbitrary<unknown> {
  const t = (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []).filter((x) => x !== 'null');
  const kind = t[0];
  if (depth > 6) return fc.constant(null);
  switch (kind) {
    case 'string':
      return fc.string({ maxLength: 5 });
    case 'boolean':
      return fc.boolean();
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'integer':
      return s.goType === 'uint16'
        ? fc.integer({ min: 0, max: 65535 })
        : fc.integer({ min: 0, max: 2 ** 31 - 1 });
    case 'array':
      return fc.array(s.items ? valid(s.items, depth + 1) : fc.constant(1), { maxLength: 2 });
    case 'object': {
      if (s.properties) {
        const keys = Object.keys(s.properties);
        return fc
          .subarray(keys, { maxLength: Math.min(4, keys.length) })
          .chain((ks) =>
            fc.record(Object.fromEntries(ks.map((k) => [k, valid(s.properties![k]!, depth + 1)]))),
          );
      }
      if (s.additionalProperties)
        return fc.dictionary(fc.string({ maxLength: 4 }), valid(s.additionalProperties, depth + 1), {
          maxKeys: 2,
        });
      return fc.constant({});
    }
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

/** Replaces one value somewhere in `v` by an arbitrary JSON value or an out-of-range number. */
const hostile = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(2 ** 63, -(2 ** 63) - 4096, 2 ** 64, 65536, 1.5, -1, 1e300),
);

function mutate(v: unknown, picks: number[], value: unknown): unknown {
  if (v === null || typeof v !== 'object' || picks.length === 0) return value;
  const keys = Object.keys(v);
  if (keys.length === 0) return value;
  const [p, ...rest] = picks;
  const k = keys[p! % keys.length]!;
  const copy = (Array.isArray(v) ? [...v] : { ...v }) as Record<string, unknown>;
  copy[k] = mutate(copy[k], rest, value);
  return copy;
}

for (const name of Object.keys(SCHEMAS) as SchemaName[]) {
  test(`${name}: the walk agrees with ajv`, () => {
    const check = ajv.compile(jsonSchemaOf(SCHEMAS[name]));
    const body = fc.oneof(
      valid(SCHEMAS[name]),
      fc
        .tuple(valid(SCHEMAS[name]), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), hostile)
        .map(([v, p, h]) => mutate(v, p, h)),
    );
    fc.assert(
      fc.property(body, (b) => {
        if (b === null) return; // an empty body: Go's zero value, nothing to check
        // The decoder rewrites in place (null, case-folded names): both see the same text.
        const forAjv = JSON.parse(JSON.stringify(b));
        let ours = true;
        try {
          decodeBody(name, JSON.parse(JSON.stringify(b)));
        } catch {
          ours = false;
        }
        // ajv sees the body as the decoder normalised it when ours accepts, else as sent.
        const normalized = ours ? decodeBody(name, JSON.parse(JSON.stringify(b))) : forAjv;
        assert.equal(check(normalized), ours, `${JSON.stringify(b)}: ajv ${JSON.stringify(check.errors)}`);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
}
