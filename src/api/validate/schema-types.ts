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
