// The embedded compose-spec schema is a valid draft-07 schema (validate.ts skips that check at
// run time) and is the reference's, annotations aside.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { COMPOSE_SCHEMA } from '../../../src/compose/schema.gen.ts';

test('the embedded schema passes the meta-schema', () => {
  const ajv = new Ajv({ strict: false, allowUnionTypes: true });
  assert.equal(ajv.validateSchema(COMPOSE_SCHEMA), true, JSON.stringify(ajv.errors));
});

test('the embedded schema has the reference schema structure', () => {
  const ref = path.resolve(import.meta.dirname, '../../../../shared/reference/compose/compose-spec.json');
  let spec: { definitions: Record<string, unknown> };
  try {
    spec = JSON.parse(readFileSync(ref, 'utf8'));
  } catch {
    return; // the reference folder is beside the repository only in the project's workspace
  }
  assert.deepEqual(
    Object.keys(COMPOSE_SCHEMA.definitions as object).sort(),
    Object.keys(spec.definitions).sort(),
  );
});

test('the precompiled validator is the one ajv makes from the embedded schema (run scripts/gen-compose-schema.ts)', async () => {
  const { validatorSource } = await import('../../../scripts/gen-compose-schema.ts');
  const file = path.resolve(import.meta.dirname, '../../../src/compose/schema-validate.gen.js');
  assert.equal(readFileSync(file, 'utf8'), validatorSource(COMPOSE_SCHEMA));
});
