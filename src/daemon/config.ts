// berthd configuration: built-in defaults < /etc/berth/daemon.json < command-line flags.
// daemon.json uses Docker's key names where the two overlap; unknown keys and keys given both
// as a flag and in the file are errors, as in dockerd.
import { CERT_DIRS } from '../registry/client/http.ts';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../errdefs/index.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface DaemonConfig {
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly hosts: string[];
  readonly logLevel: LogLevel;
  readonly pidfile: string;
  readonly debug: boolean;
  readonly group: string;
  readonly defaultRuntime: string;
  readonly runtimes: Record<string, { path: string; runtimeArgs?: string[] }>;
  readonly insecureRegistries: string[];
  readonly registryMirrors: string[];
  /** Where per-registry CA certificates live (`<dir>/<host:port>/ca.crt`), searched in order. */
  readonly registryCertsDirs: string[];
  readonly labels: string[];
  readonly tls: boolean;
  readonly configFile: string;
  /** Parent cgroup of every container (Docker's `cgroup-parent`). */
  readonly cgroupParent: string;
  /** Device name of the default bridge network (dockerd's --bridge); also tags Berth's iptables chains. */
  readonly bridge: string;
  /** Gateway address and prefix of the default bridge (dockerd's --bip), e.g. 10.199.3.1/24. */
  readonly bip?: string;
  /** DNS servers the embedded DNS forwards to (dockerd's --dns); default: the host's resolv.conf. */
  readonly dns: string[];
  /** Default log driver and options of new containers (daemon.json log-driver, log-opts). */
  readonly logDriver: string;
  readonly logOpts: Record<string, string>;
}

export const DEFAULTS = {
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  host: 'unix:///run/berth/berth.sock',
  configFile: '/etc/berth/daemon.json',
} as const;

/** daemon.json key → config field. */
const FILE_KEYS = {
  'data-root': 'dataRoot',
  'exec-root': 'execRoot',
  'cgroup-parent': 'cgroupParent',
  bridge: 'bridge',
  bip: 'bip',
  dns: 'dns',
  hosts: 'hosts',
  'log-level': 'logLevel',
  'log-driver': 'logDriver',
  'log-opts': 'logOpts',
  pidfile: 'pidfile',
  debug: 'debug',
  group: 'group',
  'default-runtime': 'defaultRuntime',
  runtimes: 'runtimes',
  'insecure-registries': 'insecureRegistries',
  'registry-mirrors': 'registryMirrors',
  'registry-certs-dirs': 'registryCertsDirs',
  labels: 'labels',
  tls: 'tls',
  tlsverify: 'tls',
  'storage-driver': 'storageDriver',
} as const;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal'];

export const USAGE = `Usage:	berthd [OPTIONS]

A Docker-compatible container engine

Options:
      --config-file string   Daemon configuration file (default "${DEFAULTS.configFile}")
      --data-root string     Root directory of persistent Berth state (default "${DEFAULTS.dataRoot}")
      --exec-root string     Root directory for execution state files (default "${DEFAULTS.execRoot}")
      --cgroup-parent string Parent cgroup for all containers (default "/berth")
 -b, --bridge string        Device name of the default bridge network (default "berth0")
      --bip string           Gateway address/prefix of the default bridge (default: a free subnet)
      --dns list             DNS servers the embedded DNS forwards to (default: the host's)
  -D, --debug                Enable debug mode
  -G, --group string         Group for the unix socket (default "berth" if it exists, else root)
  -H, --host list            Daemon socket(s) to connect to (default ${DEFAULTS.host})
  -h, --help                 Print usage
      --log-driver string    Default driver for container logs (default "json-file")
  -l, --log-level string     Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -p, --pidfile string       Path to use for daemon PID file (default "<exec-root>/berthd.pid")
  -v, --version              Print version information and quit
`;

export type ParsedCommandLine =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; config: DaemonConfig };

function bad(msg: string): never {
  throw new InvalidArgumentError('INVALID_CONFIG', msg);
}

export function parseCommandLine(
  argv: readonly string[],
  readFile = (p: string) => readFileSync(p, 'utf8'),
): ParsedCommandLine {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'config-file': { type: 'string' },
        'data-root': { type: 'string' },
        'exec-root': { type: 'string' },
        'cgroup-parent': { type: 'string' },
        bridge: { type: 'string', short: 'b' },
        bip: { type: 'string' },
        dns: { type: 'string', multiple: true },
        host: { type: 'string', short: 'H', multiple: true },
        'log-level': { type: 'string', short: 'l' },
        'log-driver': { type: 'string' },
        pidfile: { type: 'string', short: 'p' },
        debug: { type: 'boolean', short: 'D' },
        group: { type: 'string', short: 'G' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    bad(`${(err as Error).message}\nSee 'berthd --help'.`);
  }
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };

  const configFile = (v['config-file'] as string | undefined) ?? DEFAULTS.configFile;
  let file: Record<string, unknown> = {};
  let text = '';
  try {
    text = readFile(configFile);
  } catch (err) {
    // A missing default file is fine; a missing file named with --config-file is not.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || v['config-file'] !== undefined) {
      bad(`unable to read configuration file ${configFile}: ${(err as Error).message}`);
    }
  }
  // An empty file configures nothing, as with dockerd.
  if (text.trim() !== '') {
    try {
      file = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      bad(`unable to configure the daemon with file ${configFile}: invalid JSON: ${(err as Error).message}`);
    }
    if (!file || typeof file !== 'object' || Array.isArray(file))
      bad(`${configFile} must hold a JSON object`);
  }
  const unknown = Object.keys(file).filter((k) => !Object.hasOwn(FILE_KEYS, k));
  if (unknown.length > 0) {
    bad(
      `the following directives don't match any configuration option in ${configFile}: ${unknown.join(', ')}`,
    );
  }
  const flagNames: Record<string, string> = { hosts: 'host' };
  const both = Object.keys(file).filter((k) => v[flagNames[k] ?? k] !== undefined);
  if (both.length > 0) {
    bad(
      `the following directives are specified both as a flag and in the configuration file (${configFile}): ${both.join(', ')}`,
    );
  }
  if (file['storage-driver'] !== undefined && file['storage-driver'] !== 'overlay2') {
    bad(`storage-driver "${String(file['storage-driver'])}" is not supported; Berth uses overlay2`);
  }
  const str = (key: string, flag: unknown, dflt: string): string => {
    const val = flag ?? file[key];
    if (val === undefined) return dflt;
    if (typeof val !== 'string' || val === '') bad(`${key} must be a non-empty string`);
    return val;
  };
  const list = (key: string): string[] => {
    const val = file[key];
    if (val === undefined) return [];
    if (!Array.isArray(val) || !val.every((x) => typeof x === 'string'))
      bad(`${key} must be a list of strings`);
    return val as string[];
  };
  const debug = Boolean(v.debug ?? file.debug ?? false);
  const logLevel = str('log-level', v['log-level'], debug ? 'debug' : 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    bad(`invalid log level "${logLevel}": use one of ${LOG_LEVELS.join(', ')}`);
  const execRoot = str('exec-root', v['exec-root'], DEFAULTS.execRoot);
  const hostFlags = v.host as string[] | undefined;
  const hosts = hostFlags ?? (file.hosts !== undefined ? list('hosts') : []);
  const runtimes = (file.runtimes ?? {}) as DaemonConfig['runtimes'];
  if (typeof runtimes !== 'object' || Array.isArray(runtimes))
    bad('runtimes must be an object of {"name": {"path": ...}}');
  const tls = Boolean(file.tls ?? file.tlsverify ?? false);
  const bridge = str('bridge', v.bridge, 'berth0');
  // Chains are named BERTH-PO-<bridge> (iptables allows 28 characters); Linux allows 15 for links.
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge))
    bad(`invalid bridge name "${bridge}": use 1-15 of [a-zA-Z0-9_.-]`);
  const bip = str('bip', v.bip, '') || undefined;
  const dns = (v.dns as string[] | undefined) ?? list('dns');
  for (const d of dns) if (!/^\d+\.\d+\.\d+\.\d+$/.test(d)) bad(`invalid dns "${d}": use an IPv4 address`);
  if (bip !== undefined && !/^\d+\.\d+\.\d+\.\d+\/\d{1,2}$/.test(bip))
    bad(`invalid bip "${bip}": use GATEWAY/PREFIX like 10.199.3.1/24`);
  const logOpts = (file['log-opts'] ?? {}) as Record<string, string>;
  if (
    typeof logOpts !== 'object' ||
    Array.isArray(logOpts) ||
    !Object.values(logOpts).every((x) => typeof x === 'string')
  )
    bad('log-opts must be an object of strings, like {"max-size": "10m"}');
  return {
    kind: 'run',
    config: {
      dataRoot: str('data-root', v['data-root'], DEFAULTS.dataRoot),
      execRoot,
      hosts:
        hosts.length > 0
          ? hosts
          : [execRoot === DEFAULTS.execRoot ? DEFAULTS.host : `unix://${execRoot}/berth.sock`],
      logLevel,
      pidfile: str('pidfile', v.pidfile, `${execRoot}/berthd.pid`),
      debug,
      group: str('group', v.group, 'berth'),
      defaultRuntime: str('default-runtime', undefined, 'runc'),
      runtimes,
      insecureRegistries: list('insecure-registries'),
      registryMirrors: list('registry-mirrors'),
      registryCertsDirs:
        list('registry-certs-dirs').length > 0 ? list('registry-certs-dirs') : [...CERT_DIRS],
      labels: list('labels'),
      tls,
      configFile,
      cgroupParent: str('cgroup-parent', v['cgroup-parent'], '/berth'),
      bridge,
      ...(bip ? { bip } : {}),
      dns,
      logDriver: str('log-driver', v['log-driver'], 'json-file'),
      logOpts,
    },
  };
}

export type Listener = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** Parses `-H` values; `tcp://` only on loopback (Berth has no TLS yet). */
export function parseHost(spec: string, tls: boolean): Listener {
  if (spec.startsWith('unix://')) {
    const p = spec.slice('unix://'.length);
    if (!p.startsWith('/')) bad(`invalid host "${spec}": the unix socket path must be absolute`);
    return { kind: 'unix', path: p };
  }
  if (spec.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(spec.replace(/^tcp:/, 'http:'));
    } catch {
      bad(`invalid host "${spec}": expected tcp://HOST:PORT`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port === '' ? (tls ? 2376 : 2375) : Number(url.port);
    const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
    if (!loopback && !tls) {
      bad(
        `refusing to listen on ${spec}: an unauthenticated TCP socket off loopback gives root to anyone who can reach it; bind to 127.0.0.1 or use the unix socket`,
      );
    }
    if (!loopback && tls)
      bad(`TLS listeners are not supported by Berth yet; listen on loopback or the unix socket`);
    return { kind: 'tcp', host, port };
  }
  if (spec.startsWith('fd://')) bad(`socket activation (${spec}) is not supported; use unix:// or tcp://`);
  bad(`invalid host "${spec}": use unix:///path/to.sock or tcp://127.0.0.1:PORT`);
}
