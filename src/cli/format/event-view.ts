// An event as `docker events --format` sees it: moby's events.Message struct. Templates see the
// Go field names (`{{.Status}}`, `{{.ID}}`, `{{.Actor.Attributes}}`); `{{json .}}` prints the
// struct's JSON: fields in struct order, omitempty ones left out when empty, and the attribute
// map with sorted keys. TimeNano stays a bigint: nanoseconds since 1970 exceed a double's
// 53 bits.

export interface EventJson {
  readonly status?: string;
  readonly id?: string;
  readonly from?: string;
  readonly Type?: string;
  readonly Action?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> | null };
  readonly scope?: string;
  readonly time?: number;
}

/** `timeNano` is passed separately, read from the raw line so that no digit is lost. */
export function eventView(e: EventJson, timeNano: bigint): Record<string, unknown> {
  const attrs = e.Actor?.Attributes;
  const attributes = attrs === null || attrs === undefined ? null : new Map(Object.entries(attrs));
  const actor = { ID: e.Actor?.ID ?? '', Attributes: attributes };
  const time = e.time ?? 0;
  const view: Record<string, unknown> = {
    Status: e.status ?? '',
    ID: e.id ?? '',
    From: e.from ?? '',
    Type: e.Type ?? '',
    Action: e.Action ?? '',
    Actor: actor,
    Scope: e.scope ?? '',
    Time: time,
    TimeNano: timeNano,
  };
  const json: Record<string, unknown> = {};
  if (e.status) json.status = e.status;
  if (e.id) json.id = e.id;
  if (e.from) json.from = e.from;
  json.Type = view.Type;
  json.Action = view.Action;
  json.Actor = actor;
  if (e.scope) json.scope = e.scope;
  if (time !== 0) json.time = time;
  if (timeNano !== 0n) json.timeNano = timeNano;
  Object.defineProperty(view, 'toJSON', { value: () => json, enumerable: false });
  return view;
}
