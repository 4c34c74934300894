// Merging compose files in order (spec chapter "Merge and override"): mappings merge key by key,
// sequences append, `command`/`entrypoint`/`healthcheck.test` are replaced, ports / volumes /
// secrets / configs merge entries that share their unique key, `!reset` removes and `!override`
// replaces. Both sides are already in canonical shape (normalise.ts `canonicalFile`), so a list
// form in one file and a map form in the other merge as maps.
import { OVERRIDE, RESET } from './load.ts';

type Obj = Record<string, unknown>;
type Path = readonly string[];

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Attributes replaced rather than appended (shell commands). */
const REPLACED = new Set(['services.*.command', 'services.*.entrypoint', 'services.*.healthcheck.test']);

/** Sequences whose entries merge on a unique key. */
const UNIQUE: Record<string, (e: unknown) => string> = {
  'services.*.ports': (e) => {
    const p = e as Obj;
    return `${String(p.host_ip ?? '')}|${String(p.target)}|${String(p.published ?? '')}|${String(p.protocol ?? 'tcp')}`;
  },
  'services.*.volumes': (e) => String((e as Obj).target),
  'services.*.secrets': (e) => String((e as Obj).target ?? (e as Obj).source),
  'services.*.configs': (e) => String((e as Obj).target ?? (e as Obj).source),
};

function pattern(path: Path): string {
  // services.<name>.… → services.*.…
  return path
    .map((p, i) =>
      i === 1 && (path[0] === 'services' || path[0] === 'networks' || path[0] === 'volumes') ? '*' : p,
    )
    .join('.');
}

/** Merges `over` into `base` (neither is modified). */
export function mergeModels(base: unknown, over: unknown): unknown {
  return mergeAt(base, over, []);
}

function mergeAt(base: unknown, over: unknown, path: Path): unknown {
  if (isObj(over) && Object.hasOwn(over, OVERRIDE)) return strip(over[OVERRIDE]);
  if (over === RESET) return undefined;
  if (base === undefined) return strip(over);
  const pat = pattern(path);
  if (REPLACED.has(pat)) return strip(over);
  if (isObj(base) && isObj(over)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(base)) setOwn(out, k, v);
    for (const [k, v] of Object.entries(over)) {
      const merged = mergeAt(Object.hasOwn(out, k) ? out[k] : undefined, v, [...path, k]);
      if (merged === undefined) delete out[k];
      else setOwn(out, k, merged);
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) {
    const keyOf = UNIQUE[pat];
    if (keyOf) {
      const out = [...base];
      for (const e of over.map(strip)) {
        const i = out.findIndex((x) => keyOf(x) === keyOf(e));
        if (i >= 0) out[i] = isObj(out[i]) && isObj(e) ? mergeAt(out[i], e, [...path, String(i)]) : e;
        else out.push(e);
      }
      return out;
    }
    // Scalar lists (dns, cap_add, profiles …) append without repeating an entry.
    const out = [...base];
    for (const e of over.map(strip)) {
      if (isObj(e) || Array.isArray(e) || !out.includes(e)) out.push(e);
    }
    return out;
  }
  return strip(over);
}

/** Removes markers from a value that has nothing under it to merge with. */
export function strip(v: unknown): unknown {
  if (v === RESET) return undefined;
  if (Array.isArray(v)) return v.filter((x) => x !== RESET).map(strip);
  if (isObj(v)) {
    if (Object.hasOwn(v, OVERRIDE)) return strip(v[OVERRIDE]);
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (x !== RESET) setOwn(out, k, strip(x));
    }
    return out;
  }
  return v;
}

/** Sets a key that may be `__proto__` or `constructor` as data, never as a prototype. */
export function setOwn(o: Obj, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}
