// Writes src/api/validate/schemas.gen.ts from the Engine API spec (Swagger 2.0): for each request
// body berthd reads, the type structure only (types, properties, items, additionalProperties,
// the Go type of integers). Descriptions, examples and enums are dropped: the spec's prose
// stays in the spec, and Go's decoder enforces no enum (Docker checks those later, with its own
// messages, as Berth does in src/containers/verify.ts). The daemon never reads the spec itself.
//
//   node --import tsx scripts/gen-api-schemas.ts [path/to/docker-engine-api-v1.43.yaml [out.ts]]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

type Node = Record<string, unknown>;

const ROOT = path.resolve(import.meta.dirname, '..');
const SPEC = process.argv[2] ?? path.join(ROOT, '../shared/reference/docker-engine-api-v1.43.yaml');
const OUT = process.argv[3] ?? path.join(ROOT, 'src/api/validate/schemas.gen.ts');

/** The bodies berthd decodes: schema name → [method, path] in the spec. */
const BODIES: Record<string, [string, string]> = {
  containerCreate: ['post', '/containers/create'],
  containerUpdate: ['post', '/containers/{id}/update'],
  commit: ['post', '/commit'],
  execCreate: ['post', '/containers/{id}/exec'],
  execStart: ['post', '/exec/{id}/start'],
  auth: ['post', '/auth'],
  volumeCreate: ['post', '/volumes/create'],
  networkCreate: ['post', '/networks/create'],
  networkConnect: ['post', '/networks/{id}/connect'],
  networkDisconnect: ['post', '/networks/{id}/disconnect'],
};

/**
 * Where the Go type differs from what the spec says (the spec documents the wire shape, moby's
 * structs decide what decodes). Keys are `Definition.Field` or `Definition.Field[]` for items.
 */
const GO_TYPES: Record<string, string> = {
  'Resources.BlkioWeight': 'uint16',
  'Resources.BlkioWeightDevice[].Weight': 'uint16',
  'ThrottleDevice.Rate': 'uint64',
  'Resources.IOMaximumIOps': 'uint64',
  'Resources.IOMaximumBandwidth': 'uint64',
  'Mount.TmpfsOptions.Mode': 'uint32',
  'HostConfig.ConsoleSize[]': 'uint64',
  'ExecConfig.ConsoleSize[]': 'uint64',
};

/**
 * Fields moby's Go structs decode that the spec does not list (typed so a wrong type is refused):
 * Go-only fields, and fields that API versions after 1.43 added (the spec file is v1.43; which
 * versions honour them is src/api/versions/'s business). Keys are definition names, or
 * `Definition.Field` for an inline object.
 */
const GO_EXTRA_FIELDS: Record<string, Record<string, Node>> = {
  AuthConfig: {
    auth: { type: 'string' },
    identitytoken: { type: 'string' },
    registrytoken: { type: 'string' },
  },
  // 1.44
  HealthConfig: { StartInterval: { type: 'integer', goType: 'int64' } },
  'Mount.BindOptions': {
    ReadOnlyNonRecursive: { type: 'boolean' },
    ReadOnlyForceRecursive: { type: 'boolean' },
  },
  // 1.45
  'Mount.VolumeOptions': { Subpath: { type: 'string' } },
  // 1.46
  'Mount.TmpfsOptions': {
    Options: { type: ['array', 'null'], items: { type: ['array', 'null'], items: { type: 'string' } } },
  },
  // 1.48
  EndpointSettings: { GwPriority: { type: 'integer', goType: 'int64' } },
  NetworkCreateRequest: { EnableIPv4: { type: 'boolean' } },
};

/** docker's StrSlice: a string or a list of strings. */
const STR_SLICE = new Set(['ContainerConfig.Cmd', 'ContainerConfig.Entrypoint', 'ContainerConfig.Shell']);

const spec = parse(readFileSync(SPEC, 'utf8')) as {
  definitions: Record<string, Node>;
  paths: Record<string, Record<string, { parameters?: Node[] }>>;
};

function deref(n: Node, seen: string[]): [Node, string | undefined] {
  const ref = n.$ref;
  if (typeof ref !== 'string') return [n, undefined];
  const name = ref.replace('#/definitions/', '');
  if (seen.includes(name)) throw new Error(`recursive definition ${name}`);
  return [spec.definitions[name]!, name];
}

/** The structure of `n`; `where` names the field for GO_TYPES (definition-relative). */
function shape(input: Node, where: string, seen: string[]): Node {
  const [n, defName] = deref(input, seen);
  const chain = defName ? [...seen, defName] : seen;
  const here = defName ?? where;
  if (Array.isArray(n.allOf)) {
    // allOf of objects (HostConfig = Resources + its own fields): one object, properties merged.
    const properties: Record<string, Node> = {};
    for (const part of n.allOf as Node[]) {
      const s = shape(part, here, chain);
      Object.assign(properties, s.properties as Record<string, Node> | undefined);
    }
    return { type: ['object', 'null'], properties };
  }
  if (STR_SLICE.has(where)) return { type: ['string', 'array', 'null'], items: { type: 'string' } };
  const type = n.type as string | undefined;
  const out: Node = {};
  if (type === 'object' || n.properties || n.additionalProperties) {
    out.type = ['object', 'null'];
    if (n.properties) {
      const props: Record<string, Node> = {};
      for (const [k, v] of Object.entries(n.properties as Record<string, Node>))
        props[k] = shape(v, `${here}.${k}`, chain);
      Object.assign(props, GO_EXTRA_FIELDS[defName ?? where]);
      out.properties = props;
    }
    if (n.additionalProperties && typeof n.additionalProperties === 'object')
      out.additionalProperties = shape(n.additionalProperties as Node, `${here}{}`, chain);
  } else if (type === 'array') {
    out.type = ['array', 'null'];
    if (n.items) out.items = shape(n.items as Node, `${here}[]`, chain);
  } else if (type === 'integer') {
    const go =
      GO_TYPES[where] ?? (n.format === 'int32' ? 'int32' : n.format === 'uint64' ? 'uint64' : 'int64');
    // The bounds of each Go type are added where the schemas are compiled (src/api/validate).
    Object.assign(out, { type: 'integer', goType: go });
  } else if (type === 'string' || type === 'boolean' || type === 'number') {
    out.type = type;
  }
  return out;
}

const out: Record<string, Node> = {};
for (const [name, [method, p]] of Object.entries(BODIES)) {
  const body = spec.paths[p]?.[method]?.parameters?.find((x) => x.in === 'body');
  if (!body) throw new Error(`no body for ${method} ${p} in the spec`);
  const schema = body.schema as Node;
  const title = (schema.title as string | undefined) ?? name;
  const s = shape(schema, title === 'ExecConfig' ? 'ExecConfig' : title, []);
  // Go keeps the zero value for a JSON null body too.
  out[name] = s;
}
const text =
  `// Generated by scripts/gen-api-schemas.ts from the Engine API spec (v1.43): do not edit.\n` +
  `import type { BodySchema } from './schema-types.ts';\n\n` +
  `export type SchemaName = ${Object.keys(out)
    .map((k) => `'${k}'`)
    .join(' | ')};\n\n` +
  `export const SCHEMAS: Record<SchemaName, BodySchema> = ${JSON.stringify(out)};\n`;
// Formatted as the repository formats it (through stdin, so any output path works).
const formatted = execFileSync(
  path.join(ROOT, 'node_modules/.bin/biome'),
  ['format', '--stdin-file-path', 'src/api/validate/schemas.gen.ts'],
  { cwd: ROOT, input: text, encoding: 'utf8' },
);
writeFileSync(OUT, formatted);
console.log(`wrote ${path.relative(ROOT, OUT)}: ${Object.keys(out).join(', ')}`);
