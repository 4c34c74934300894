// The ajv options of the compose validator, shared by the generator of the precompiled
// validator (scripts/gen-compose-schema.ts) and the test that checks it is current.
// strict off: the spec's schema uses annotations ajv does not know; allErrors off keeps the
// first failure of each branch (enough to name what was wrong); verbose puts the offending
// value in each error (validate.ts describes it).
export const VALIDATOR_OPTIONS = {
  strict: false,
  allErrors: false,
  allowUnionTypes: true,
  verbose: true,
  validateSchema: false,
  code: { source: true, esm: true },
} as const;
