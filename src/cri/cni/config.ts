// The pod network's CNI configuration, found as containerd (go-cni over libcni) finds it: the
// files of the config folder ending in .conf, .conflist or .json, in lexical order; the first
// one is the network. A .conflist is a network configuration list; any other is one plugin's
// configuration, made a list of one. A broken first file is an error (not skipped), as in
// go-cni, so NetworkReady says what is wrong instead of silently using the next file.
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';

/** One plugin's configuration object, as the file has it (plugin-specific keys included). */
export type PluginConf = Record<string, unknown> & { readonly type: string };

export interface NetworkList {
  readonly name: string;
  readonly cniVersion: string;
  readonly disableCheck: boolean;
  readonly plugins: readonly PluginConf[];
  /** The file it came from (for messages). */
  readonly file: string;
}

export type Loaded =
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'ok'; readonly network: NetworkList };

const EXTENSIONS = ['.conf', '.conflist', '.json'];
/** The spec's network name: an alphanumeric, then alphanumerics, `_`, `.` or `-`. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** A plugin type is an executable's file name: never a path. */
const PLUGIN_TYPE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkPlugin(p: unknown, where: string): PluginConf {
  if (!isObject(p)) throw new Error(`${where} must be an object`);
  if (typeof p.type !== 'string' || !PLUGIN_TYPE.test(p.type))
    throw new Error(`${where}: "type" must name a plugin executable (got ${JSON.stringify(p.type)})`);
  const ipam = p.ipam;
  if (ipam !== undefined) {
    if (!isObject(ipam)) throw new Error(`${where}: "ipam" must be an object`);
    if (typeof ipam.type !== 'string' || !PLUGIN_TYPE.test(ipam.type))
      throw new Error(`${where}: "ipam.type" must name an IPAM plugin executable`);
  }
  return p as PluginConf;
}

/** Parses one config file's text into a network list; throws naming what is wrong. */
export function parseNetwork(file: string, text: string): NetworkList {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new Error(`${file} must hold a JSON object`);
  const list = file.endsWith('.conflist');
  const name = doc.name;
  if (typeof name !== 'string' || !NETWORK_NAME.test(name))
    throw new Error(`${file}: "name" must be a network name (alphanumerics, _ . -)`);
  const cniVersion = doc.cniVersion ?? '0.2.0';
  if (typeof cniVersion !== 'string' || !/^\d+\.\d+\.\d+$/.test(cniVersion))
    throw new Error(`${file}: "cniVersion" must be a version like 1.0.0`);
  let plugins: PluginConf[];
  if (list) {
    if (!Array.isArray(doc.plugins) || doc.plugins.length === 0)
      throw new Error(`${file}: a .conflist needs a non-empty "plugins" list`);
    plugins = doc.plugins.map((p, i) => checkPlugin(p, `${file}: plugins[${i}]`));
  } else {
    plugins = [checkPlugin(doc, file)];
  }
  return {
    name,
    cniVersion,
    disableCheck: doc.disableCheck === true || doc.disableCheck === 'true',
    plugins,
    file,
  };
}

/** The executables a network runs: each plugin and each IPAM plugin it delegates to. */
export function executablesOf(n: NetworkList): string[] {
  const out = new Set<string>();
  for (const p of n.plugins) {
    out.add(p.type);
    const ipam = p.ipam as { type?: string } | undefined;
    if (ipam?.type) out.add(ipam.type);
  }
  return [...out];
}

/** The first folder holding an executable file of that name, as CNI_PATH is searched. */
export async function findPlugin(type: string, binDirs: readonly string[]): Promise<string | undefined> {
  if (!PLUGIN_TYPE.test(type)) return undefined;
  for (const dir of binDirs) {
    const file = path.join(dir, type);
    const st = await fsp.stat(file).catch(() => undefined);
    if (!st?.isFile()) continue;
    if (
      await fsp.access(file, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  return undefined;
}

/** Reads the config folder: its first network, or why there is none or it is unusable. */
export async function loadNetwork(confDir: string, binDirs: readonly string[]): Promise<Loaded> {
  const names = await fsp.readdir(confDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const files = (names ?? []).filter((n) => EXTENSIONS.includes(path.extname(n))).sort();
  if (files.length === 0)
    return { kind: 'none', reason: `no network config found in ${confDir} (.conf, .conflist or .json)` };
  const file = path.join(confDir, files[0]!);
  let network: NetworkList;
  try {
    network = parseNetwork(file, await fsp.readFile(file, 'utf8'));
  } catch (err) {
    return { kind: 'invalid', reason: (err as Error).message };
  }
  for (const exe of executablesOf(network))
    if (!(await findPlugin(exe, binDirs)))
      return {
        kind: 'invalid',
        reason: `${file}: CNI plugin "${exe}" not found in ${binDirs.join(':')} (install it or set cni-bin-dir)`,
      };
  return { kind: 'ok', network };
}
