// Short syntax → long syntax, per file, before merging (so `- "8080:80"` in one file and a long
// port entry in the next meet in one shape): ports, volumes, secrets/configs, depends_on,
// networks, environment/labels/… lists → maps, build strings → mappings. Pure functions.
import { ComposeError } from './errors.ts';
import { OVERRIDE, RESET } from './load.ts';
import { setOwn } from './merge.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Applies fn to a value, looking through an `!override` wrapper; `!reset` stays. */
function through(v: unknown, fn: (x: unknown) => unknown): unknown {
  if (v === RESET || v === undefined) return v;
  if (isObj(v) && Object.hasOwn(v, OVERRIDE)) return { [OVERRIDE]: fn(v[OVERRIDE]) };
  return fn(v);
}

export interface PortConfig {
  target: number;
  published?: string;
  host_ip?: string;
  protocol: string;
  mode: string;
  name?: string;
  app_protocol?: string;
}

/** `[[HOST_IP:]PUBLISHED[-END]:]TARGET[-END][/PROTO]` (or a number) → long entries (ranges expand). */
export function parsePortShort(spec: string | number): PortConfig[] {
  const s = String(spec).trim();
  let rest = s;
  let protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new Error(`invalid port "${s}": unclosed "[" around the host IP`);
    hostIp = rest.slice(1, close);
    rest = rest.slice(close + 1).replace(/^:/, '');
  }
  const parts = rest.split(':');
  if (!hostIp && parts.length > 3) {
    // An unbracketed IPv6 host: everything before the last two fields.
    hostIp = parts.slice(0, -2).join(':');
    parts.splice(0, parts.length - 2);
  } else if (!hostIp && parts.length === 3) {
    hostIp = parts.shift();
  }
  const target = parts.pop() ?? '';
  const published = parts.pop();
  const [t0, t1] = range(target, s);
  const pub = published !== undefined && published !== '' ? range(published, s) : undefined;
  const n = t1 - t0 + 1;
  if (pub && pub[1] !== pub[0] && pub[1] - pub[0] + 1 !== n) {
    throw new Error(`invalid port "${s}": the published range and the container range differ in size`);
  }
  if (!['tcp', 'udp', 'sctp'].includes(protocol))
    throw new Error(`invalid port "${s}": unknown protocol "${protocol}" (tcp, udp or sctp)`);
  const out: PortConfig[] = [];
  for (let i = 0; i < n; i++) {
    const e: PortConfig = { mode: 'ingress', target: t0 + i, protocol };
    if (pub)
      e.published =
        pub[1] === pub[0] ? (n > 1 && pub[0] !== 0 ? String(pub[0] + i) : published!) : String(pub[0] + i);
    if (hostIp) e.host_ip = hostIp;
    out.push(e);
  }
  return out;
}

function range(r: string, whole: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(r);
  if (!m)
    throw new Error(`invalid port "${whole}": "${r}" is not a port number or range (write e.g. "8080:80")`);
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a;
  if (a > 65535 || b > 65535 || b < a)
    throw new Error(`invalid port "${whole}": ports are 0–65535, ranges low-high`);
  return [a, b];
}

export interface VolumeConfig {
  type: string;
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: Obj;
  volume?: Obj;
  tmpfs?: Obj;
  consistency?: string;
}

/** `[SOURCE:]TARGET[:MODE]` → a long volume entry (bind when the source is a path). */
export function parseVolumeShort(spec: string): VolumeConfig {
  const parts = spec.split(':');
  // A Windows-free world: a colon separates fields, so at most 3.
  if (parts.length > 3 || parts.some((p) => p === '')) {
    throw new Error(`invalid volume "${spec}": write [SOURCE:]TARGET[:MODE] (e.g. "data:/var/lib/data:ro")`);
  }
  // As compose-go's ParseVolume: a named or anonymous volume gets an empty `volume: {}` (which
  // `config` shows and v2's config hash includes).
  if (parts.length === 1) return { type: 'volume', target: parts[0]!, volume: {} };
  const [source, target, mode] = parts as [string, string, string | undefined];
  const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
  const v: VolumeConfig = { type: bind ? 'bind' : 'volume', source, target };
  const opts = (mode ?? '').split(',').filter(Boolean);
  for (const o of opts) {
    if (o === 'ro') v.read_only = true;
    else if (o === 'rw') v.read_only = false;
    else if (o === 'nocopy' && !bind) v.volume = { nocopy: true };
    else if (['z', 'Z'].includes(o) && bind) v.bind = { ...(v.bind ?? {}), selinux: o };
    else if (['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'].includes(o) && bind)
      v.bind = { ...(v.bind ?? {}), propagation: o };
    else if (!['cached', 'delegated', 'consistent'].includes(o))
      throw new Error(
        `invalid volume "${spec}": unknown mode "${o}" (ro, rw, z, Z, nocopy or a propagation)`,
      );
  }
  if (bind) v.bind = { create_host_path: true, ...(v.bind ?? {}) };
  else v.volume ??= {};
  if (v.read_only === false) delete v.read_only;
  return v;
}

/** `["K=V", "K"]` → `{K: "V", K: null}`; maps keep their values (numbers/booleans become strings). */
export function listToMap(v: unknown, sep = '='): Obj {
  const out: Obj = {};
  if (Array.isArray(v)) {
    for (const e of v) {
      const s = String(e);
      const i = s.indexOf(sep);
      if (i < 0) setOwn(out, s, null);
      else setOwn(out, s.slice(0, i), s.slice(i + 1));
    }
  } else if (isObj(v)) {
    for (const [k, x] of Object.entries(v))
      setOwn(out, k, x === null || x === RESET ? x : isObj(x) || Array.isArray(x) ? x : String(x));
  }
  return out;
}

/** Canonical shape of one file's service (keys keep their order; unknown keys pass through). */
export function canonicalService(name: string, svc: Obj): Obj {
  const out: Obj = { ...svc };
  const at = (k: string, fn: (x: unknown) => unknown) => {
    if (Object.hasOwn(out, k)) setOwn(out, k, through(out[k], fn));
  };
  const wrap = (what: string, fn: () => unknown) => {
    try {
      return fn();
    } catch (err) {
      throw new ComposeError(`services.${name}.${what}: ${(err as Error).message}`);
    }
  };
  at('build', (b) => (typeof b === 'string' ? { context: b } : canonicalBuild(b as Obj)));
  at('ports', (l) =>
    wrap('ports', () =>
      (l as unknown[]).flatMap((p): unknown[] =>
        isObj(p) ? [p] : p === RESET ? [] : parsePortShort(p as string),
      ),
    ),
  );
  at('expose', (l) => (l as unknown[]).map(String));
  at('volumes', (l) =>
    wrap('volumes', () => (l as unknown[]).map((v) => (typeof v === 'string' ? parseVolumeShort(v) : v))),
  );
  for (const k of ['secrets', 'configs'])
    at(k, (l) => (l as unknown[]).map((v) => (typeof v === 'string' ? { source: v } : v)));
  at('depends_on', (d) => {
    const m: Obj = {};
    if (Array.isArray(d))
      for (const s of d) setOwn(m, String(s), { condition: 'service_started', required: true });
    else
      for (const [k, v] of Object.entries(d as Obj))
        setOwn(m, k, v === RESET ? v : { condition: 'service_started', required: true, ...(v as Obj) });
    return m;
  });
  at('networks', (n) => {
    if (!Array.isArray(n)) return n;
    const m: Obj = {};
    for (const s of n) setOwn(m, String(s), null);
    return m;
  });
  for (const k of ['environment', 'labels', 'annotations', 'sysctls']) at(k, (v) => listToMap(v));
  at('extra_hosts', (v) => (isObj(v) ? Object.entries(v).map(([h, ip]) => `${h}=${String(ip)}`) : v));
  at('env_file', (v) => (typeof v === 'string' ? [v] : v));
  at('env_file', (l) =>
    (l as unknown[]).map((e) =>
      typeof e === 'string' ? { path: e, required: true } : { required: true, ...(e as Obj) },
    ),
  );
  at('dns', (v) => (typeof v === 'string' ? [v] : v));
  at('dns_search', (v) => (typeof v === 'string' ? [v] : v));
  at('tmpfs', (v) => (typeof v === 'string' ? [v] : v));
  at('healthcheck', (h) => {
    const hc = { ...(h as Obj) };
    if (typeof hc.test === 'string') hc.test = ['CMD-SHELL', hc.test];
    return hc;
  });
  at('extends', (e) => (typeof e === 'string' ? { service: e } : e));
  return out;
}

function canonicalBuild(b: Obj): Obj {
  const out: Obj = { ...b };
  for (const k of ['args', 'labels'])
    if (Object.hasOwn(out, k))
      setOwn(
        out,
        k,
        through(out[k], (v) => listToMap(v)),
      );
  return out;
}

/** Canonical shape of a whole file's model (services; networks/volumes/secrets/configs keep theirs). */
export function canonicalFile(model: Obj): Obj {
  const out: Obj = { ...model };
  if (isObj(out.services)) {
    const svcs: Obj = {};
    for (const [name, svc] of Object.entries(out.services))
      setOwn(svcs, name, isObj(svc) ? canonicalService(name, svc) : svc);
    out.services = svcs;
  }
  if (Array.isArray(out.include))
    out.include = out.include.map((i) => (typeof i === 'string' ? { path: [i] } : i));
  return out;
}
