// Docker's `filters` query parameter: the one table of which keys each list/prune endpoint
// accepts and which values each key takes, and the parser every route uses.
//
// Keys and values come from the Engine API spec (v1.43) and moby's behaviour: an unknown key is
// "invalid filter 'KEY'", a value outside a key's set is "invalid filter 'KEY=VALUE'", both a
// 400, as Docker answers (a client that sends `status=bogus` learns it at once instead of
// getting an empty list). Names in `before`/`since` are resolved by the routes (a 404 there).
// Patterns (`name=` regexes, `reference=` globs) are compiled by the routes through
// base/patterns, which checks them.

import { parseGoDuration } from '../base/duration.ts';
import { InvalidArgumentError } from '../errdefs/index.ts';

/** Filter name → its values (both of Docker's JSON shapes parse to this). */
export type Filters = Map<string, string[]>;

/** Checks every value given for one key; throws InvalidArgumentError. */
type Check = (values: readonly string[], key: string) => void;

/** Key → its value check (`null`: any string). */
export type FilterSpec = Readonly<Record<string, Check | null>>;

/** The filters JSON is part of a URL; this bounds what a request can make us parse. */
export const MAX_FILTERS_LENGTH = 64 * 1024;
/**
 * Values per filter key: each `name=` value is a regex compiled and run against every
 * container, so the count multiplies the work of one request. Real clients send a handful.
 */
export const MAX_FILTER_VALUES = 256;

function invalidValue(key: string, values: readonly string[]): InvalidArgumentError {
  return new InvalidArgumentError('INVALID_FILTER', `invalid filter '${key}=${values.join(',')}'`);
}

const oneOf =
  (...allowed: string[]): Check =>
  (values, key) => {
    for (const v of values) if (!allowed.includes(v)) throw invalidValue(key, [v]);
  };

/** Go's filters.GetBoolOrDefault: `true`/`1` or `false`/`0` (any case), and not both. */
const bool: Check = (values, key) => {
  let t = false;
  let f = false;
  for (const v of values) {
    if (v.toLowerCase() === 'true' || v === '1') t = true;
    else if (v.toLowerCase() === 'false' || v === '0') f = true;
    else throw invalidValue(key, values);
  }
  if (t === f) throw invalidValue(key, values);
};

/** strconv.Atoi: an optional sign and decimal digits, within int64 range. */
const int: Check = (values, key) => {
  for (const v of values) {
    if (!/^[+-]?\d{1,18}$/.test(v)) throw invalidValue(key, [v]);
  }
};

/** `<port>[/<proto>]` or `<start>-<end>[/<proto>]` (publish/expose). */
const portRange: Check = (values, key) => {
  for (const v of values) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(v);
    const lo = Number(m?.[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!m || lo > 65535 || hi > 65535 || hi < lo) throw invalidValue(key, [v]);
  }
};

/**
 * Docker's timetypes.GetTimestamp input in milliseconds since the epoch: a Go duration before
 * `now` (`10m`, `1h30m`), Unix seconds (fraction allowed) or a date/time. Undefined when the text
 * is none of these.
 */
export function parseTimestamp(value: string, now = Date.now()): number | undefined {
  const ns = parseGoDuration(value);
  if (ns !== undefined) return now - ns / 1e6;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  // Date.parse takes RFC 3339 and the shorter `2006-01-02[T15:04[:05]]` forms Docker accepts.
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

const timestamp: Check = (values, key) => {
  for (const v of values) {
    if (parseTimestamp(v) === undefined) {
      throw new InvalidArgumentError(
        'INVALID_FILTER',
        `invalid filter '${key}=${v}': use a timestamp (2006-01-02T15:04:05Z), Unix seconds or a duration (10m, 1h30m)`,
      );
    }
  }
};

const LABEL = { label: null, 'label!': null } as const;

/** Which filters each endpoint takes. */
export const FILTERS = {
  /** GET /containers/json */
  containerList: {
    ancestor: null,
    before: null,
    expose: portRange,
    exited: int,
    health: oneOf('starting', 'healthy', 'unhealthy', 'none'),
    id: null,
    isolation: oneOf('default', 'process', 'hyperv'),
    'is-task': bool,
    label: null,
    name: null,
    network: null,
    publish: portRange,
    since: null,
    status: oneOf('created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'),
    volume: null,
  },
  /** POST /containers/prune */
  containerPrune: { ...LABEL, until: timestamp },
  /** GET /images/json */
  imageList: {
    before: null,
    dangling: bool,
    ...LABEL,
    reference: null,
    since: null,
    until: timestamp,
  },
  /** POST /images/prune */
  imagePrune: { dangling: bool, ...LABEL, until: timestamp },
  /** GET /images/search */
  imageSearch: { 'is-automated': bool, 'is-official': bool, stars: int },
  /** GET /networks */
  networkList: {
    dangling: bool,
    driver: null,
    id: null,
    label: null,
    name: null,
    scope: oneOf('swarm', 'global', 'local'),
    type: oneOf('custom', 'builtin'),
  },
  /** POST /networks/prune */
  networkPrune: { ...LABEL, until: timestamp },
  /** GET /volumes */
  volumeList: { dangling: bool, driver: null, label: null, name: null },
  /** POST /volumes/prune */
  volumePrune: { ...LABEL, all: bool },
  /** GET /events */
  events: {
    config: null,
    container: null,
    daemon: null,
    event: null,
    image: null,
    label: null,
    network: null,
    node: null,
    plugin: null,
    scope: oneOf('local', 'swarm'),
    secret: null,
    service: null,
    type: oneOf(
      'builder',
      'config',
      'container',
      'daemon',
      'image',
      'network',
      'node',
      'plugin',
      'secret',
      'service',
      'volume',
    ),
    volume: null,
  },
  /** POST /build/prune */
  buildPrune: {
    description: null,
    id: null,
    inuse: null,
    parent: null,
    private: null,
    shared: null,
    type: null,
    until: timestamp,
    'unused-for': timestamp,
  },
} as const satisfies Record<string, FilterSpec>;

/**
 * Parses `filters` JSON in either of Docker's shapes, `{"key":["v1","v2"]}` or the legacy
 * `{"key":{"v1":true}}` (every member counts, whatever its boolean, as in Go's filters.Args),
 * and checks keys and values against `spec`. A key given no values is no filter, as in Docker.
 */
export function parseFiltersJson(raw: string | null, spec: FilterSpec): Filters {
  const out: Filters = new Map();
  if (raw === null || raw.trim() === '') return out;
  const malformed = (detail: string) =>
    new InvalidArgumentError('INVALID_FILTER', `invalid filters ${truncate(raw)}: ${detail}`);
  if (raw.length > MAX_FILTERS_LENGTH)
    throw malformed(`longer than ${MAX_FILTERS_LENGTH} characters; send fewer filters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw malformed(`not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null) return out;
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw malformed('expected a JSON object such as {"name":["web"]}');
  for (const [key, v] of Object.entries(parsed as Record<string, unknown>)) {
    let values: string[];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) values = v;
    else if (
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      Object.values(v).every((x) => typeof x === 'boolean')
    )
      values = Object.keys(v);
    else throw malformed(`the value of "${truncate(key)}" must be a list of strings`);
    if (!Object.hasOwn(spec, key))
      throw new InvalidArgumentError('INVALID_FILTER', `invalid filter '${truncate(key)}'`);
    if (values.length === 0) continue;
    if (values.length > MAX_FILTER_VALUES)
      throw malformed(`more than ${MAX_FILTER_VALUES} values for "${truncate(key)}"; send fewer`);
    spec[key]?.(values, key);
    out.set(key, values);
  }
  return out;
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** Docker's label filter: `key` (present) or `key=value` (equal). */
export function labelMatches(labels: Readonly<Record<string, string>>, filter: string): boolean {
  const eq = filter.indexOf('=');
  return eq === -1 ? Object.hasOwn(labels, filter) : labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** `label=` (all must match) and `label!=` (none may match) of one filter set. */
export function labelsMatch(labels: Readonly<Record<string, string>>, f: Filters): boolean {
  return (
    (f.get('label') ?? []).every((l) => labelMatches(labels, l)) &&
    !(f.get('label!') ?? []).some((l) => labelMatches(labels, l))
  );
}
