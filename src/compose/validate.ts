// Validation of each file against the Compose Specification's JSON schema (compose-spec.json,
// embedded as schema.gen.ts and precompiled), after interpolation and before merging, as Compose does. The first
// error is reported with the file, the line and column, the path in the model and what the
// schema expected.
import type { ErrorObject } from 'ajv';
import { ComposeError } from './errors.ts';
import type { ParsedFile } from './load.ts';
// Precompiled by scripts/gen-compose-schema.ts (ajv standalone code, options in
// validator-options.ts): compiling the schema at every run cost ~100 ms of CPU.
import { validate as validator } from './schema-validate.gen.js';

/** Throws a ComposeError for the first schema violation of an interpolated file. */
export function validateFile(file: ParsedFile, interpolated: unknown): void {
  if (validator(interpolated)) return;
  const err = pickError(validator.errors ?? []);
  if (!err) throw new ComposeError('does not follow the Compose Specification', { file: file.path });
  const path = pointerToPath(err.instancePath);
  const where =
    err.keyword === 'additionalProperties' ? [...path, String(err.params.additionalProperty)] : path;
  throw new ComposeError(`${dotted(where)}: ${describe(err)}`, file.locate(where));
}

/** The most useful error: an unknown key first, else the deepest path (oneOf branches report shallower). */
function pickError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  const extra = errors.find((e) => e.keyword === 'additionalProperties');
  if (extra) return extra;
  let best: ErrorObject | undefined;
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    if (!best || e.instancePath.split('/').length > best.instancePath.split('/').length) best = e;
  }
  return best ?? errors[0];
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown attribute "${String(p.additionalProperty)}" is not allowed here (check the spelling against the Compose Specification; custom keys must start with "x-")`;
    case 'type':
      return `must be ${article(String(p.type).replace(/,/g, ' or '))}, not ${kindOf(e.data)}`;
    case 'required':
      return `the required attribute "${String(p.missingProperty)}" is missing`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(e.data)}`;
    case 'pattern':
      return `${JSON.stringify(e.data)} does not match the pattern ${String(p.pattern)}`;
    case 'uniqueItems':
      return `has a duplicate entry (items ${String(p.j)} and ${String(p.i)} are the same)`;
    case 'propertyNames':
      return `has an invalid name ${JSON.stringify(p.propertyName)}`;
    default:
      return e.message ?? 'is invalid';
  }
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (v === undefined) return 'missing';
  return `${article(typeof v)} (${JSON.stringify(v)})`;
}

function pointerToPath(ptr: string): (string | number)[] {
  if (!ptr) return [];
  return ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function dotted(path: readonly (string | number)[]): string {
  return path.length ? path.join('.') : '(top level)';
}
