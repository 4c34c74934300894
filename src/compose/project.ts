// Loading a project the way Compose v2 does: which files (-f, COMPOSE_FILE, compose.yaml found
// upwards, plus its override file), which environment (.env / --env-file under the shell's),
// each file parsed → interpolated → validated → canonical shape, merged in order, then include,
// extends, the project name, profiles, and the normalised model.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ComposeError } from './errors.ts';
import { interpolateTree, InterpolationError, type Lookup, substitute } from './interpolate.ts';
import { type ParsedFile, parseEnvFile, readComposeFile } from './load.ts';
import { mergeModels, setOwn } from './merge.ts';
import { normaliseModel } from './normalise.ts';
import { canonicalFile, canonicalService } from './shapes.ts';
import { validateFile } from './validate.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface LoadOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly files?: readonly string[];
  readonly projectName?: string;
  readonly projectDirectory?: string;
  readonly envFiles?: readonly string[];
  readonly profiles?: readonly string[];
  /** Services named on the command line: their profiles become active. */
  readonly services?: readonly string[];
  readonly onWarning?: (message: string) => void;
}

export interface Project {
  readonly name: string;
  readonly workingDir: string;
  readonly configFiles: readonly string[];
  /** The normalised model (`compose config`). */
  readonly model: Obj;
  /** Every profile any service names (`config --profiles`). */
  readonly allProfiles: readonly string[];
  /** Services left out because none of their profiles is active. */
  readonly disabled: readonly string[];
  /** The project's variables (the shell's over .env): what `environment:` secrets read. */
  readonly variable: (name: string) => string | undefined;
}

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
const OVERRIDE_FILES = [
  'compose.override.yaml',
  'compose.override.yml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
];

/** Finds the files Compose would use when no -f is given. */
export function findComposeFiles(cwd: string, env: LoadOptions['env']): string[] {
  if (env.COMPOSE_FILE) {
    const sep = env.COMPOSE_PATH_SEPARATOR || ':';
    return env.COMPOSE_FILE.split(sep)
      .filter(Boolean)
      .map((f) => path.resolve(cwd, f));
  }
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const main = DEFAULT_FILES.find((f) => existsSync(path.join(dir, f)));
    if (main) {
      const over = OVERRIDE_FILES.find((f) => existsSync(path.join(dir, f)));
      return [path.join(dir, main), ...(over ? [path.join(dir, over)] : [])];
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new ComposeError(
    `no configuration file provided: not found in ${cwd} or its parents (create compose.yaml or pass -f FILE)`,
  );
}

/** Compose v2's project-name rule: lowercase letters, digits, `-` and `_`, starting with a letter or digit. */
export function normaliseProjectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '');
}

function checkProjectName(name: string, from: string): string {
  if (name === '' || normaliseProjectName(name) !== name) {
    throw new ComposeError(
      `${from} "${name}" is not a valid project name: it must contain only lowercase letters, digits, dashes and underscores, and start with a letter or digit`,
    );
  }
  return name;
}

function readEnvFiles(
  files: readonly string[],
  shell: LoadOptions['env'],
  required: boolean,
): Map<string, string> {
  const env = new Map<string, string>();
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      if (required) throw new ComposeError(`env file ${f} not found: create it or fix --env-file`);
      continue;
    }
    const expand = (v: string, seen: ReadonlyMap<string, string>) =>
      substitute(v, { lookup: (n) => shell[n] ?? seen.get(n) ?? env.get(n) });
    for (const [k, v] of parseEnvFile(text, f, expand)) env.set(k, v);
  }
  return env;
}

interface Loaded {
  readonly model: Obj;
  /** Files in load order, for finding where a model path came from. */
  readonly sources: ParsedFile[];
}

/** Parse → interpolate → validate → canonical shape, one file. */
function loadFile(
  file: string,
  lookup: Lookup,
  warn: (m: string) => void,
): { parsed: ParsedFile; model: Obj } {
  const parsed = readComposeFile(file);
  const warned = new Set<string>();
  const opts = {
    lookup,
    onUnset: (n: string) => {
      if (!warned.has(n)) warn(`The "${n}" variable is not set. Defaulting to a blank string.`);
      warned.add(n);
    },
  };
  let plain: unknown;
  try {
    plain = interpolateTree(parsed.plain, opts);
  } catch (err) {
    if (err instanceof InterpolationError) {
      throw new ComposeError(
        `${err.path.join('.')}: ${err.message} (set it in the environment or in .env)`,
        parsed.locate(err.path),
      );
    }
    throw err;
  }
  validateFile(parsed, plain);
  const marked = parsed.marked === parsed.plain ? plain : interpolateTree(parsed.marked, { lookup });
  try {
    return { parsed, model: canonicalFile(marked as Obj) };
  } catch (err) {
    if (err instanceof ComposeError) throw new ComposeError(err.message, { file });
    throw err;
  }
}

function loadFiles(files: readonly string[], lookup: Lookup, warn: (m: string) => void): Loaded {
  let model: Obj = {};
  const sources: ParsedFile[] = [];
  for (const f of files) {
    const { parsed, model: m } = loadFile(f, lookup, warn);
    sources.push(parsed);
    model = mergeModels(model, m) as Obj;
  }
  return { model, sources };
}

/** Finds the file and line a model path was written at (the last file that has it wins, as in the merge). */
function locate(sources: readonly ParsedFile[], p: readonly (string | number)[]): ComposeError['where'] {
  for (let n = p.length; n > 0; n--) {
    for (let i = sources.length - 1; i >= 0; i--) {
      const src = sources[i]!;
      let node: unknown = src.plain;
      for (const k of p.slice(0, n))
        node = isObj(node) || Array.isArray(node) ? (node as Obj)[k as string] : undefined;
      if (node !== undefined) return src.locate(p.slice(0, n));
    }
  }
  return sources[0] ? { file: sources[0].path } : {};
}

export function loadProject(opts: LoadOptions): Project {
  const warn = opts.onWarning ?? (() => {});
  const files = (
    opts.files?.length
      ? opts.files.map((f) => path.resolve(opts.cwd, f))
      : findComposeFiles(opts.cwd, opts.env)
  ).map((f) => path.resolve(f));
  const workingDir = path.resolve(opts.cwd, opts.projectDirectory ?? path.dirname(files[0]!));
  const dotenv = opts.envFiles?.length
    ? readEnvFiles(
        opts.envFiles.map((f) => path.resolve(opts.cwd, f)),
        opts.env,
        true,
      )
    : readEnvFiles([path.join(workingDir, '.env')], opts.env, false);
  const fromEnv = (n: string): string | undefined => opts.env[n] ?? dotenv.get(n);
  const explicitName = opts.projectName ?? fromEnv('COMPOSE_PROJECT_NAME');
  // ${COMPOSE_PROJECT_NAME} is the project's name however it was found (-p, the variable,
  // `name:` or the folder), as compose-go sets it in the environment before interpolating.
  const lookupAs =
    (projectName: string): Lookup =>
    (n) =>
      n === 'COMPOSE_PROJECT_NAME' && projectName ? projectName : fromEnv(n);
  const folderName = normaliseProjectName(path.basename(workingDir));
  let lookup = lookupAs(explicitName || folderName);
  // Read first as if the folder names the project; a `name:` that says otherwise means a second
  // read with that name, and the first read's warnings are dropped so none is said twice.
  const held: string[] = [];
  let loaded = loadFiles(files, lookup, explicitName ? warn : (m) => held.push(m));
  const named = loaded.model.name;
  if (!explicitName && typeof named === 'string' && named && named !== folderName) {
    lookup = lookupAs(named);
    loaded = loadFiles(files, lookup, warn);
  } else for (const m of held) warn(m);
  try {
    let model = loaded.model;
    model = applyIncludes(model, workingDir, opts, warn, new Set(files));
    const name = explicitName
      ? checkProjectName(explicitName, opts.projectName ? 'project name' : 'COMPOSE_PROJECT_NAME')
      : typeof model.name === 'string' && model.name
        ? checkProjectName(model.name, 'name:')
        : normaliseProjectName(path.basename(workingDir));
    if (!name)
      throw new ComposeError(
        `cannot derive a project name from the folder ${workingDir}: pass -p NAME or set "name:"`,
      );
    if (model.version !== undefined)
      warn(
        'the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion',
      );
    model = resolveExtends(model, workingDir, lookup, warn);
    const { kept, disabled, all } = applyProfiles(model, opts);
    const normalised = normaliseModel(
      { ...model, services: kept },
      {
        name,
        workingDir,
        lookup,
        expand: (v, seen) => substitute(v, { lookup: (n) => seen.get(n) ?? lookup(n) }),
      },
    );
    return {
      name,
      workingDir,
      configFiles: files,
      model: normalised,
      allProfiles: all,
      disabled,
      variable: lookup,
    };
  } catch (err) {
    if (err instanceof ComposeError && !err.where.file && err.modelPath) {
      throw new ComposeError(err.message, locate(loaded.sources, err.modelPath));
    }
    if (err instanceof ComposeError && !err.where.file)
      throw new ComposeError(err.message, { file: files[0]! });
    throw err;
  }
}

/** `include:` entries loaded as projects of their own; their resources join this one's, conflicts refused. */
function applyIncludes(
  model: Obj,
  dir: string,
  opts: LoadOptions,
  warn: (m: string) => void,
  seen: Set<string>,
): Obj {
  if (!Array.isArray(model.include)) return model;
  const out: Obj = { ...model };
  delete out.include;
  for (const inc of model.include as Obj[]) {
    const paths = (Array.isArray(inc.path) ? inc.path : [inc.path]).map((p) => path.resolve(dir, String(p)));
    const incDir = inc.project_directory
      ? path.resolve(dir, String(inc.project_directory))
      : path.dirname(paths[0]!);
    for (const p of paths) {
      if (seen.has(p)) throw new ComposeError(`include cycle: ${p} includes itself (remove the include)`);
    }
    const envFiles =
      inc.env_file === undefined
        ? [path.join(incDir, '.env')]
        : (Array.isArray(inc.env_file) ? inc.env_file : [inc.env_file]).map((f) =>
            path.resolve(dir, String(f)),
          );
    const dotenv = readEnvFiles(envFiles, opts.env, inc.env_file !== undefined);
    const lookup: Lookup = (n) => opts.env[n] ?? dotenv.get(n);
    let sub = loadFiles(paths, lookup, warn).model;
    sub = applyIncludes(sub, incDir, opts, warn, new Set([...seen, ...paths]));
    sub = resolveExtends(sub, incDir, lookup, warn);
    sub = absolutise(sub, incDir);
    for (const kind of ['services', 'networks', 'volumes', 'secrets', 'configs']) {
      if (!isObj(sub[kind])) continue;
      const mine: Obj = isObj(out[kind]) ? { ...(out[kind] as Obj) } : {};
      for (const [k, v] of Object.entries(sub[kind] as Obj)) {
        if (Object.hasOwn(mine, k)) {
          throw new ComposeError(
            `${kind}.${k} conflicts with the one imported from ${paths[0]}: rename one of them`,
            {},
            [kind, k],
          );
        }
        setOwn(mine, k, v);
      }
      out[kind] = mine;
    }
  }
  return out;
}

/** Makes an included or extended model's relative paths absolute against its own folder. */
function absolutise(model: Obj, dir: string): Obj {
  if (!isObj(model.services)) return model;
  const svcs: Obj = {};
  for (const [name, s] of Object.entries(model.services))
    setOwn(svcs, name, absolutiseService(s as Obj, dir));
  const out: Obj = { ...model, services: svcs };
  for (const kind of ['secrets', 'configs']) {
    if (!isObj(out[kind])) continue;
    const m: Obj = {};
    for (const [k, v] of Object.entries(out[kind] as Obj)) {
      const e = { ...(v as Obj) };
      if (typeof e.file === 'string') e.file = path.resolve(dir, e.file);
      setOwn(m, k, e);
    }
    out[kind] = m;
  }
  return out;
}

function absolutiseService(s: Obj, dir: string): Obj {
  const svc = { ...s };
  if (isObj(svc.build)) {
    const ctx = String(svc.build.context ?? '.');
    if (!/^(https?:|git@|git:)/.test(ctx)) svc.build = { ...svc.build, context: path.resolve(dir, ctx) };
  }
  if (Array.isArray(svc.volumes)) {
    svc.volumes = (svc.volumes as Obj[]).map((v) =>
      v.type === 'bind' && typeof v.source === 'string' && v.source.startsWith('.')
        ? { ...v, source: path.resolve(dir, v.source) }
        : v,
    );
  }
  if (Array.isArray(svc.env_file)) {
    svc.env_file = (svc.env_file as Obj[]).map((e) => ({ ...e, path: path.resolve(dir, String(e.path)) }));
  }
  return svc;
}

/** `extends:` resolved per service, in the same file or another (whose relative paths stay its own). */
function resolveExtends(model: Obj, dir: string, lookup: Lookup, warn: (m: string) => void): Obj {
  if (!isObj(model.services)) return model;
  const services = model.services;
  const done = new Map<string, Obj>();
  const fileCache = new Map<string, Obj>();
  const resolve = (svcs: Obj, name: string, base: string, chain: string[]): Obj => {
    const key = `${base}\u0000${name}`;
    if (svcs === services && done.has(name)) return done.get(name)!;
    if (chain.includes(key)) {
      throw new ComposeError(
        `circular extends: ${[...chain, key].map((k) => k.split('\u0000')[1]).join(' -> ')} (remove one extends)`,
        {},
        ['services', name, 'extends'],
      );
    }
    const svc = svcs[name];
    if (!isObj(svc)) throw new ComposeError(`extends: service "${name}" not found (fix the service name)`);
    if (!isObj(svc.extends)) return svc;
    const ext = svc.extends;
    let baseSvcs = svcs;
    let baseDir = base;
    if (typeof ext.file === 'string') {
      const f = path.resolve(base, ext.file);
      if (!fileCache.has(f)) fileCache.set(f, loadFiles([f], lookup, warn).model);
      baseSvcs = (fileCache.get(f)!.services as Obj) ?? {};
      baseDir = path.dirname(f);
    }
    const target = String(ext.service);
    if (!Object.hasOwn(baseSvcs, target)) {
      throw new ComposeError(
        `extends: service "${name}" extends "${target}", which is not defined${typeof ext.file === 'string' ? ` in ${ext.file}` : ''}`,
        {},
        ['services', name, 'extends'],
      );
    }
    let parent = resolve(baseSvcs, target, baseDir, [...chain, key]);
    if (baseDir !== base) parent = absolutiseService(parent, baseDir);
    const own = { ...svc };
    delete own.extends;
    const merged = (
      mergeModels({ services: { x: canonicalService(name, parent) } }, { services: { x: own } }) as {
        services: { x: Obj };
      }
    ).services.x;
    if (svcs === services) done.set(name, merged);
    return merged;
  };
  const out: Obj = {};
  for (const name of Object.keys(services)) setOwn(out, name, resolve(services, name, dir, []));
  return { ...model, services: out };
}

/** Keeps services without profiles and those with an active one (`*` = all; named services enable theirs). */
function applyProfiles(model: Obj, opts: LoadOptions): { kept: Obj; disabled: string[]; all: string[] } {
  const services = isObj(model.services) ? model.services : {};
  const active = new Set<string>(opts.profiles ?? []);
  const envProfiles = opts.env.COMPOSE_PROFILES;
  if (!opts.profiles?.length && envProfiles)
    for (const p of envProfiles.split(',')) if (p.trim()) active.add(p.trim());
  const all = new Set<string>();
  for (const s of Object.values(services))
    for (const p of ((s as Obj).profiles as string[] | undefined) ?? []) all.add(p);
  for (const n of opts.services ?? []) {
    if (!Object.hasOwn(services, n)) continue;
    for (const p of ((services[n] as Obj).profiles as string[] | undefined) ?? []) active.add(p);
  }
  const kept: Obj = {};
  const disabled: string[] = [];
  for (const [n, s] of Object.entries(services)) {
    const profiles = ((s as Obj).profiles as string[] | undefined) ?? [];
    if (
      profiles.length === 0 ||
      active.has('*') ||
      profiles.some((p) => active.has(p)) ||
      opts.services?.includes(n)
    )
      setOwn(kept, n, s);
    else disabled.push(n);
  }
  return { kept, disabled, all: [...all].sort() };
}
