// JSON carried in query parameters (the spec types them only as strings): the Go types moby
// decodes them into. A build's labels end up in the image config, so they must be strings too.
import type { BodySchema } from './schema-types.ts';

export type QuerySchemaName = 'buildArgs' | 'buildLabels' | 'buildUlimits';

export const QUERY_SCHEMAS: Record<QuerySchemaName, BodySchema> = {
  // map[string]*string: null means "take the value from the client's environment".
  buildArgs: { type: ['object', 'null'], additionalProperties: { type: ['string', 'null'] } },
  buildLabels: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
  buildUlimits: {
    type: ['array', 'null'],
    items: {
      type: ['object', 'null'],
      properties: {
        Name: { type: 'string' },
        Hard: { type: 'integer', goType: 'int64' },
        Soft: { type: 'integer', goType: 'int64' },
      },
    },
  },
};
