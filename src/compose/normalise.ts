// The merged model made explicit, as `docker compose config` shows it: paths absolute against
// the project folder, env_file contents folded into environment, command strings split into
// words, the default network added, resource names scoped to the project, and every reference
// (depends_on, networks, volumes, secrets, configs) checked, including dependency cycles.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { ComposeError } from './errors.ts';
import { parseEnvFile } from './load.ts';
import { setOwn } from './merge.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface NormaliseOptions {
  readonly name: string;
  readonly workingDir: string;
  /** The interpolation environment, for `environment: [NAME]` entries with no value. */
  readonly lookup: (name: string) => string | undefined;
  readonly expand: (value: string, seen: ReadonlyMap<string, string>) => string;
}

/** Splits a command string into words as a POSIX shell would (quotes and backslashes; no expansion). */
export function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in "${s}"`);
      cur += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && j + 1 < s.length && '"\\$`\n'.includes(s[j + 1]!)) j++;
        cur += s[j];
      }
      if (j >= s.length) throw new Error(`unterminated " in "${s}"`);
      i = j;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

function resolvePath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(homedir(), p.slice(1));
  return path.resolve(base, p);
}

function isRemote(ctx: string): boolean {
  return /^(https?:\/\/|git@|git:\/\/|github\.com\/)/.test(ctx) || ctx.endsWith('.git');
}

/**
 * `build.additional_contexts` as a mapping (the list form `NAME=VALUE` too), local paths made
 * absolute against the project folder as compose-go does; `docker-image://`, `service:` and
 * other `scheme://` values are kept for the builder to accept or refuse.
 */
function additionalContexts(v: unknown, dir: string): Obj {
  const entries: [string, string][] = Array.isArray(v)
    ? (v as unknown[]).map((e) => {
        const s = String(e);
        const eq = s.indexOf('=');
        return eq < 0 ? [s, ''] : [s.slice(0, eq), s.slice(eq + 1)];
      })
    : Object.entries(v as Obj).map(([k, x]) => [k, x === null ? '' : String(x)]);
  const out: Obj = {};
  for (const [k, val] of entries) {
    const local = val !== '' && !/^[A-Za-z][\w+.-]*:/.test(val) && !isRemote(val);
    Object.defineProperty(out, k, {
      value: local ? resolvePath(val, dir) : val,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

export function normaliseModel(model: Obj, opts: NormaliseOptions): Obj {
  const dir = opts.workingDir;
  const services = isObj(model.services) ? model.services : {};
  const networks: Obj = isObj(model.networks) ? { ...model.networks } : {};
  const volumes: Obj = isObj(model.volumes) ? { ...model.volumes } : {};
  let usesDefault = false;
  const outSvcs: Obj = {};
  for (const name of Object.keys(services).sort()) {
    const svc = { ...(services[name] as Obj) };
    const where = `services.${name}`;
    const fail = (msg: string, key?: string): never => {
      throw new ComposeError(`${where}: ${msg}`, {}, key ? ['services', name, key] : ['services', name]);
    };
    if (svc.image === undefined && svc.build === undefined) {
      fail('has neither an image nor a build context: add "image:" or "build:"');
    }
    if (isObj(svc.build)) {
      const b = { ...svc.build };
      const ctx = typeof b.context === 'string' ? b.context : '.';
      b.context = isRemote(ctx) ? ctx : resolvePath(ctx, dir);
      if (b.dockerfile === undefined && b.dockerfile_inline === undefined) b.dockerfile = 'Dockerfile';
      if (b.additional_contexts !== undefined)
        b.additional_contexts = additionalContexts(b.additional_contexts, dir);
      svc.build = b;
    }
    for (const k of ['command', 'entrypoint']) {
      const v = svc[k];
      if (typeof v === 'string') {
        try {
          svc[k] = shellSplit(v);
        } catch (err) {
          fail(`${k}: ${(err as Error).message}`, k);
        }
      }
    }
    // env_file first, environment wins; a bare NAME takes the value from the shell.
    const env: Obj = {};
    if (Array.isArray(svc.env_file)) {
      for (const ef of svc.env_file as Obj[]) {
        const p = resolvePath(String(ef.path), dir);
        ef.path = p;
        let text: string;
        try {
          text = readFileSync(p, 'utf8');
        } catch {
          if (ef.required === false) continue;
          fail(`env_file ${p} not found: create it or mark it "required: false"`, 'env_file');
          continue;
        }
        for (const [k, v] of parseEnvFile(text, p, opts.expand)) setOwn(env, k, v);
      }
    }
    if (isObj(svc.environment)) {
      for (const [k, v] of Object.entries(svc.environment)) {
        if (v === null) {
          const fromShell = opts.lookup(k);
          if (fromShell !== undefined) setOwn(env, k, fromShell);
          else if (!Object.hasOwn(env, k)) setOwn(env, k, null);
        } else setOwn(env, k, v);
      }
    }
    if (Object.keys(env).length > 0 || svc.environment !== undefined) svc.environment = env;
    if (Array.isArray(svc.volumes)) {
      svc.volumes = (svc.volumes as Obj[]).map((v) => {
        const vol = { ...v };
        if (vol.type === 'bind' && typeof vol.source === 'string') vol.source = resolvePath(vol.source, dir);
        if (vol.type === 'volume' && typeof vol.source === 'string' && !Object.hasOwn(volumes, vol.source)) {
          fail(`refers to undefined volume ${vol.source}: add it under the top-level "volumes:"`, 'volumes');
        }
        return vol;
      });
    }
    if (svc.network_mode === undefined) {
      if (!isObj(svc.networks)) svc.networks = { default: null };
      for (const n of Object.keys(svc.networks as Obj)) {
        if (n === 'default') usesDefault = true;
        else if (!Object.hasOwn(networks, n))
          fail(`refers to undefined network ${n}: add it under the top-level "networks:"`, 'networks');
      }
    } else if (svc.networks !== undefined) {
      fail('"network_mode" and "networks" cannot be combined: keep one', 'network_mode');
    }
    for (const kind of ['secrets', 'configs'] as const) {
      if (!Array.isArray(svc[kind])) continue;
      const top = isObj(model[kind]) ? (model[kind] as Obj) : {};
      svc[kind] = (svc[kind] as Obj[]).map((e) => {
        const src = String(e.source);
        if (!Object.hasOwn(top, src))
          fail(
            `refers to undefined ${kind.slice(0, -1)} ${src}: add it under the top-level "${kind}:"`,
            kind,
          );
        // As compose-go: a secret's absent target becomes /run/secrets/NAME, a config's stays
        // absent (v2 mounts it at /NAME); the model (and the config hash) keep that form, the
        // mount path is fileTarget() in create.ts.
        return e.target === undefined && kind === 'secrets' ? { ...e, target: `/run/secrets/${src}` } : e;
      });
    }
    // As compose-go: `network_mode`/`pid`/`ipc: service:X` joins X's container, so X is an
    // (implicit, started) dependency.
    for (const key of ['network_mode', 'pid', 'ipc']) {
      const v = svc[key];
      if (typeof v !== 'string' || !v.startsWith('service:')) continue;
      const dep = v.slice('service:'.length);
      const deps = isObj(svc.depends_on) ? svc.depends_on : {};
      if (!Object.hasOwn(deps, dep))
        svc.depends_on = { ...deps, [dep]: { condition: 'service_started', required: true } };
    }
    setOwn(outSvcs, name, svc);
  }
  checkDependencies(outSvcs);

  if (usesDefault && !Object.hasOwn(networks, 'default')) networks.default = null;
  const outNets: Obj = {};
  for (const [k, v] of Object.entries(networks)) setOwn(outNets, k, scoped(k, v, opts.name));
  const outVols: Obj = {};
  for (const [k, v] of Object.entries(volumes)) setOwn(outVols, k, scoped(k, v, opts.name));

  const out: Obj = { name: opts.name, services: outSvcs };
  if (Object.keys(outNets).length) out.networks = outNets;
  if (Object.keys(outVols).length) out.volumes = outVols;
  for (const kind of ['secrets', 'configs'] as const) {
    if (!isObj(model[kind])) continue;
    const m: Obj = {};
    for (const [k, v] of Object.entries(model[kind] as Obj)) {
      const e = { ...(v as Obj) };
      if (typeof e.file === 'string') e.file = resolvePath(e.file, dir);
      setOwn(m, k, scoped(k, e, opts.name));
    }
    out[kind] = m;
  }
  for (const [k, v] of Object.entries(model)) if (k.startsWith('x-')) setOwn(out, k, v);
  return out;
}

/** A network/volume/secret's engine name: `project_key` unless external or named. */
function scoped(key: string, v: unknown, project: string): Obj {
  const e: Obj = isObj(v) ? { ...v } : {};
  if (typeof e.name === 'string') return e;
  e.name = e.external === true ? key : `${project}_${key}`;
  return e;
}

/** Every depends_on names a service of the model, and the graph has no cycle. */
export function checkDependencies(services: Obj): void {
  for (const [name, svc] of Object.entries(services)) {
    const deps = (svc as Obj).depends_on;
    if (!isObj(deps)) continue;
    for (const [dep, d] of Object.entries(deps)) {
      if (!Object.hasOwn(services, dep) && (d as Obj | null)?.required !== false) {
        throw new ComposeError(
          `service "${name}" depends on undefined service "${dep}": define it, fix the name, or enable its profile`,
          {},
          ['services', name, 'depends_on', dep],
        );
      }
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(n)), n];
      throw new ComposeError(
        `dependency cycle detected: ${cycle.join(' -> ')} (remove one of these depends_on)`,
        {},
        ['services', n, 'depends_on'],
      );
    }
    state.set(n, 'visiting');
    stack.push(n);
    const deps = (services[n] as Obj | undefined)?.depends_on;
    if (isObj(deps)) for (const d of Object.keys(deps)) if (Object.hasOwn(services, d)) visit(d);
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of Object.keys(services)) visit(n);
}
