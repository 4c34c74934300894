// A JSON object seen through a Go struct whose field names differ from its JSON keys (docker's
// `APIVersion string json:"ApiVersion"`): templates see the Go names (`{{.Server.APIVersion}}`),
// `{{json .}}` prints the JSON keys, as `docker version --format` does with its structs.

/** Returns `obj` with the keys in `renames` (JSON key → Go field name) renamed for templates. */
export function withGoFieldNames<T extends object>(
  obj: T,
  renames: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) view[renames[k] ?? k] = v;
  // Not enumerable: not a field to templates, but what the JSON encoder prints.
  Object.defineProperty(view, 'toJSON', { value: () => obj, enumerable: false });
  return view;
}
