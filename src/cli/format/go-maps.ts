// Which objects of an inspect result are Go maps. docker decodes inspect results into typed
// structs before formatting: struct fields keep their order, but map fields (labels, exposed
// ports, options…) are Go maps, which `json`, `range` and `%v` visit in sorted key order. JSON
// cannot tell the two apart, so a map is an object under a field Docker types as a map, or one
// whose keys are not all Go field names ("8080/tcp", "com.example.tier").

const MAP_FIELDS = new Set([
  'Labels',
  'ExposedPorts',
  'Volumes',
  'Ports',
  'Networks',
  'Options',
  'DriverOpts',
  'Sysctls',
  'StorageOpt',
  'Tmpfs',
  'Annotations',
  'Data',
  'Containers',
  'Status',
]);

// Fields that are maps only inside a given parent (LogConfig.Config; not Container.Config).
const MAP_FIELDS_IN: Readonly<Record<string, string>> = { Config: 'LogConfig' };

const GO_FIELD = /^[A-Z][A-Za-z0-9_]*$/;

/** A copy of a decoded JSON value with Go-map objects turned into Maps (sorted when printed). */
export function withGoMaps(v: unknown, key = '', parent = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => withGoMaps(x, '', key));
  if (v === null || typeof v !== 'object' || v instanceof Map || v instanceof Date) return v;
  const entries = Object.entries(v as Record<string, unknown>);
  const isMap =
    MAP_FIELDS.has(key) || MAP_FIELDS_IN[key] === parent || entries.some(([k]) => !GO_FIELD.test(k));
  if (isMap) return new Map(entries.map(([k, x]) => [k, withGoMaps(x, '', key)]));
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) out[k] = withGoMaps(x, k, key);
  return out;
}
