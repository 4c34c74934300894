// The shape of the generated body schemas (a subset of JSON Schema that ajv compiles, plus the
// Go type of each integer field for error messages).
export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export interface BodySchema {
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: Readonly<Record<string, BodySchema>>;
  readonly additionalProperties?: BodySchema;
  readonly items?: BodySchema;
  /** The Go integer type the field decodes into (int64, uint16, ...); its bounds are below. */
  readonly goType?: string;
  readonly minimum?: number;
  readonly exclusiveMaximum?: number;
}

/** [minimum, exclusive maximum] of each Go integer type (all exactly representable doubles). */
export const GO_INT_BOUNDS: Readonly<Record<string, readonly [number, number]>> = {
  int64: [-(2 ** 63), 2 ** 63],
  int32: [-(2 ** 31), 2 ** 31],
  uint64: [0, 2 ** 64],
  uint32: [0, 2 ** 32],
  uint16: [0, 2 ** 16],
};

/** The schema as plain JSON Schema, integer bounds included (what ajv checks in the oracle test). */
export function jsonSchemaOf(s: BodySchema): Record<string, unknown> {
  const o: Record<string, unknown> = { ...s };
  delete o.goType;
  if (s.goType) {
    const [min, maxExcl] = GO_INT_BOUNDS[s.goType] ?? GO_INT_BOUNDS.int64!;
    o.minimum = min;
    o.exclusiveMaximum = maxExcl;
  }
  if (s.properties)
    o.properties = Object.fromEntries(Object.entries(s.properties).map(([k, x]) => [k, jsonSchemaOf(x)]));
  if (s.items) o.items = jsonSchemaOf(s.items);
  if (s.additionalProperties) o.additionalProperties = jsonSchemaOf(s.additionalProperties);
  return o;
}
