// berthd configuration: built-in defaults < /etc/berth/daemon.json < command-line flags.
// daemon.json uses Docker's key names where the two overlap; unknown keys and keys given both
// as a flag and in the file are errors, as in dockerd.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkCgroupParent } from '../containers/index.ts';
import { InvalidArgumentError } from '../errdefs/index.ts';
import { CERT_DIRS } from '../registry/client/http.ts';
import { parseStreamingAddress } from '../cri/streaming/address.ts';
import { CONFIG_KEYS, type ConfigKeyName, configKey, typeErrors } from './config-keys.ts';
import { defaultCertDir } from './tls.ts';
import { type DefaultUlimit, lastPerName, parseUlimitFlag, parseUlimitsKey } from './ulimits.ts';

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
  /** TLS on the TCP listeners (--tls; implied by --tlsverify). */
  readonly tls: boolean;
  /** Clients must present a certificate signed by tlsCaCert (mutual TLS). */
  readonly tlsVerify: boolean;
  readonly tlsCaCert: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly configFile: string;
  /** Parent cgroup of every container (Docker's `cgroup-parent`). */
  readonly cgroupParent: string;
  /** Device name of the default bridge network (dockerd's --bridge); also tags Berth's iptables chains. */
  readonly bridge: string;
  /** Gateway address and prefix of the default bridge (dockerd's --bip), e.g. 10.199.3.1/24. */
  readonly bip?: string;
  /** DNS servers the embedded DNS forwards to (dockerd's --dns); default: the host's resolv.conf. */
  readonly dns: string[];
  /** Containers outlive berthd (conmon holds them); false: berthd stops them at its shutdown. */
  readonly liveRestore: boolean;
  /** Seconds the shutdown may take before berthd exits anyway; negative: no limit (dockerd's). */
  readonly shutdownTimeout: number;
  /** Ulimits of containers that do not set them (dockerd's default-ulimits). */
  readonly defaultUlimits: readonly DefaultUlimit[];
  /** Parallel layer downloads per pull / uploads per push (Docker's max-concurrent-*). */
  readonly maxConcurrentDownloads: number;
  readonly maxConcurrentUploads: number;
  /** Default log driver and options of new containers (daemon.json log-driver, log-opts). */
  readonly logDriver: string;
  readonly logOpts: Record<string, string>;
  /** Step timing of every request, read at GET /_berth/trace (--trace or BERTH_TRACE=1). */
  readonly trace?: boolean;
  /** The CRI endpoint (`unix:///…`); empty when the CRI is not served. */
  readonly criSocket: string;
  /** host:port of the CRI streaming server (Exec/Attach/PortForward URLs); loopback by default. */
  readonly criStreamingAddress: string;
  /** CRI pod networks: the CNI config folder and the plugin folders (CNI_PATH). */
  readonly cniConfDir: string;
  readonly cniBinDirs: readonly string[];
}

export const DEFAULTS = {
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  host: 'unix:///run/berth/berth.sock',
  configFile: '/etc/berth/daemon.json',
} as const;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal'];

export const USAGE = `Usage:	berthd [OPTIONS]

A Docker-compatible container engine

Options:
      --config-file string   Daemon configuration file (default "${DEFAULTS.configFile}")
      --data-root string     Root directory of persistent Berth state (default "${DEFAULTS.dataRoot}")
      --exec-root string     Root directory for execution state files (default "${DEFAULTS.execRoot}")
      --cgroup-parent string Parent cgroup for all containers (default "/berth")
      --cri-socket string    Serve the Kubernetes CRI on this socket (e.g. unix:///run/berth/cri.sock)
      --cri-streaming-address string  host:port of the CRI streaming server (default "127.0.0.1:0")
      --cni-conf-dir string  CNI network config folder of CRI pods (default "/etc/cni/net.d")
      --cni-bin-dir string   CNI plugin folders, colon-separated (default "/usr/lib/cni")
      --default-ulimit ulimit  Default ulimits for containers (default [])
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
      --shutdown-timeout int Set the default shutdown timeout (default 15)
      --tls                  Use TLS on TCP listeners; implied by --tlsverify
      --tlscacert string     Trust certs signed only by this CA (default "~/.docker/ca.pem")
      --tlscert string       Path to TLS certificate file (default "~/.docker/cert.pem")
      --tlskey string        Path to TLS key file (default "~/.docker/key.pem")
      --tlsverify            Use TLS and verify the remote (client certificates)
      --trace                Time each step of every request; read at GET /_berth/trace
      --validate             Validate daemon configuration and exit
  -v, --version              Print version information and quit
`;

export type ParsedCommandLine =
  | { kind: 'help' }
  | { kind: 'version' }
  /** `validate`: check flags and daemon.json, print "configuration OK" and exit. */
  | { kind: 'run' | 'validate'; config: DaemonConfig };

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
        'cri-socket': { type: 'string' },
        'cri-streaming-address': { type: 'string' },
        'cni-conf-dir': { type: 'string' },
        'cni-bin-dir': { type: 'string' },
        'default-ulimit': { type: 'string', multiple: true },
        'shutdown-timeout': { type: 'string' },
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
        validate: { type: 'boolean' },
        tls: { type: 'boolean' },
        tlsverify: { type: 'boolean' },
        tlscacert: { type: 'string' },
        tlscert: { type: 'string' },
        tlskey: { type: 'string' },
        trace: { type: 'boolean' },
      },
    });
  } catch (err) {
    bad(`${(err as Error).message}\nSee 'berthd --help'.`);
  }
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };

  const configFile = (v['config-file'] as string | undefined) ?? DEFAULTS.configFile;
  const file = readConfigFile(configFile, v['config-file'] !== undefined, readFile);
  const inFile = (k: string) => `unable to configure the daemon with file ${configFile}: ${k}`;
  // dockerd's text: each directive with both values, so the operator sees which one to drop.
  const both = Object.keys(file)
    .map((k) => [k, configKey(k)?.flag] as const)
    .filter(([, flag]) => flag !== undefined && v[flag] !== undefined)
    .map(([k, flag]) => `${k}: (from flag: ${goValue(v[flag!])}, from file: ${goValue(file[k])})`);
  if (both.length > 0) {
    bad(
      inFile(
        `the following directives are specified both as a flag and in the configuration file: ${both.join(', ')}`,
      ),
    );
  }
  if (file['storage-driver'] !== undefined && file['storage-driver'] !== 'overlay2') {
    bad(`storage-driver "${String(file['storage-driver'])}" is not supported; Berth uses overlay2`);
  }
  const shutdownFlag = v['shutdown-timeout'] as string | undefined;
  if (shutdownFlag !== undefined && !/^-?\d+$/.test(shutdownFlag))
    bad(`invalid argument "${shutdownFlag}" for "--shutdown-timeout" flag: use whole seconds, e.g. 30`);
  const shutdownTimeout =
    shutdownFlag !== undefined
      ? Number(shutdownFlag)
      : ((file['shutdown-timeout'] as number | undefined) ?? 15);
  const ulimitFlags = v['default-ulimit'] as string[] | undefined;
  const defaultUlimits = ulimitFlags
    ? lastPerName(ulimitFlags.map(parseUlimitFlag))
    : parseUlimitsKey(file['default-ulimits'], inFile);
  const positive = (key: 'max-concurrent-downloads' | 'max-concurrent-uploads', dflt: number) => {
    const val = file[key] ?? dflt;
    if (typeof val !== 'number' || val < 1)
      bad(inFile(`invalid ${key.replaceAll('-', ' ')}: ${String(val)}`));
    return val;
  };
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
  const tlsVerify = Boolean(v.tlsverify ?? file.tlsverify ?? false);
  // As in dockerd, --tlsverify turns TLS on by itself.
  const tls = tlsVerify || Boolean(v.tls ?? file.tls ?? false);
  const certDir = defaultCertDir();
  const bridge = str('bridge', v.bridge, 'berth0');
  // Chains are named BERTH-PO-<bridge> (iptables allows 28 characters); Linux allows 15 for links.
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge))
    bad(`invalid bridge name "${bridge}": use 1-15 of [a-zA-Z0-9_.-]`);
  const bip = str('bip', v.bip, '') || undefined;
  const dns = (v.dns as string[] | undefined) ?? list('dns');
  for (const d of dns) if (!/^\d+\.\d+\.\d+\.\d+$/.test(d)) bad(`invalid dns "${d}": use an IPv4 address`);
  if (bip !== undefined && !/^\d+\.\d+\.\d+\.\d+\/\d{1,2}$/.test(bip))
    bad(`invalid bip "${bip}": use GATEWAY/PREFIX like 10.199.3.1/24`);
  for (const [name, r] of Object.entries(runtimes)) {
    const args = (r as { runtimeArgs?: unknown } | null)?.runtimeArgs;
    if (typeof r?.path !== 'string' || r.path === '')
      bad(inFile(`runtime ${name} needs a "path" (the runtime's executable)`));
    if (args !== undefined && !(Array.isArray(args) && args.every((a) => typeof a === 'string')))
      bad(inFile(`runtimeArgs of runtime ${name} must be a list of strings`));
  }
  const criStreamingAddress = str('cri-streaming-address', v['cri-streaming-address'], '127.0.0.1:0');
  try {
    parseStreamingAddress(criStreamingAddress);
  } catch (err) {
    bad((err as Error).message);
  }
  const cniConfDir = str('cni-conf-dir', v['cni-conf-dir'], '/etc/cni/net.d');
  const cniBinDirs = str('cni-bin-dir', v['cni-bin-dir'], '/usr/lib/cni').split(':').filter(Boolean);
  for (const d of [cniConfDir, ...cniBinDirs])
    if (!d.startsWith('/')) bad(`invalid CNI folder "${d}": use an absolute path`);
  // Checked here too, so --validate refuses a host berthd could not listen on.
  for (const h of hosts) parseHost(h, { tls, tlsVerify });
  const labels = list('labels');
  for (const l of labels) if (!l.includes('=')) bad(inFile(`bad attribute format: ${l}`));
  const logOpts = (file['log-opts'] ?? {}) as Record<string, string>;
  if (
    typeof logOpts !== 'object' ||
    Array.isArray(logOpts) ||
    !Object.values(logOpts).every((x) => typeof x === 'string')
  )
    bad('log-opts must be an object of strings, like {"max-size": "10m"}');
  return {
    kind: v.validate ? 'validate' : 'run',
    config: {
      dataRoot: str('data-root', v['data-root'], DEFAULTS.dataRoot),
      execRoot,
      criSocket: str('cri-socket', v['cri-socket'], ''),
      criStreamingAddress,
      cniConfDir,
      cniBinDirs,
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
      insecureRegistries: list('insecure-registries').map((r) => {
        if (r.includes('://')) bad(inFile(`insecure registry ${r} should not contain '://'`));
        return r;
      }),
      registryMirrors: list('registry-mirrors').map((m) => normaliseMirror(m, inFile)),
      registryCertsDirs:
        list('registry-certs-dirs').length > 0 ? list('registry-certs-dirs') : [...CERT_DIRS],
      labels,
      tls,
      tlsVerify,
      tlsCaCert: str('tlscacert', v.tlscacert, path.join(certDir, 'ca.pem')),
      tlsCert: str('tlscert', v.tlscert, path.join(certDir, 'cert.pem')),
      tlsKey: str('tlskey', v.tlskey, path.join(certDir, 'key.pem')),
      configFile,
      cgroupParent: daemonCgroupParent(
        str('cgroup-parent', v['cgroup-parent'], '/berth'),
        v['cgroup-parent'] === undefined ? inFile : (k) => k,
      ),
      bridge,
      ...(bip ? { bip } : {}),
      dns,
      liveRestore: file['live-restore'] !== false,
      shutdownTimeout,
      defaultUlimits,
      maxConcurrentDownloads: positive('max-concurrent-downloads', 3),
      maxConcurrentUploads: positive('max-concurrent-uploads', 5),
      logDriver: str('log-driver', v['log-driver'], 'json-file'),
      logOpts,
      trace: v.trace === true || process.env.BERTH_TRACE === '1',
    },
  };
}

/** --cgroup-parent / daemon.json `cgroup-parent`, refused by the same rules as HostConfig.CgroupParent. */
function daemonCgroupParent(value: string, inFile: (k: string) => string): string {
  try {
    return checkCgroupParent(value, 'cgroup-parent');
  } catch (err) {
    return bad(inFile((err as Error).message));
  }
}

/** A mirror as dockerd keeps it (`https://host[:port][/path]/`), or dockerd's error for it. */
function normaliseMirror(m: string, inFile: (k: string) => string): string {
  let u: URL;
  try {
    u = new URL(m);
  } catch {
    bad(inFile(`invalid mirror: "${m}" is not a valid URI`));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    bad(inFile(`invalid mirror: unsupported scheme "${u.protocol.slice(0, -1)}" in "${m}"`));
  if (u.search !== '' || u.hash !== '')
    bad(inFile(`invalid mirror: query or fragment at end of the URI "${m}"`));
  if (u.username !== '' || u.password !== '')
    bad(inFile(`invalid mirror: username/password not allowed in URI "${m}"`));
  return u.href.endsWith('/') ? u.href : `${u.href}/`;
}

/** A flag or file value as Go's %v prints it in dockerd's conflict message. */
function goValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.join(' ')}]`;
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/**
 * Reads and checks a daemon.json: a JSON object of known keys with values of the right types
 * (null keeps the default, as in Go). A missing default file configures nothing; a missing
 * file named with --config-file is an error, as in dockerd.
 */
export function readConfigFile(
  configFile: string,
  explicit: boolean,
  readFile: (p: string) => string,
): Record<string, unknown> {
  const inFile = (k: string) => `unable to configure the daemon with file ${configFile}: ${k}`;
  let text = '';
  try {
    text = readFile(configFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || explicit) {
      bad(`unable to read configuration file ${configFile}: ${(err as Error).message}`);
    }
  }
  // An empty file configures nothing, as with dockerd.
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    bad(inFile(`invalid JSON: ${(err as Error).message}`));
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    bad(inFile('the file must hold a JSON object'));
  const file = parsed as Record<string, unknown>;
  const unknown = Object.keys(file).filter((k) => !configKey(k));
  if (unknown.length > 0)
    bad(inFile(`the following directives don't match any configuration option: ${unknown.join(', ')}`));
  const types = typeErrors(file);
  if (types.length > 0) bad(inFile(types.join('; ')));
  // null is Go's "keep the default": drop it so every later check sees the key as unset.
  return Object.fromEntries(Object.entries(file).filter(([, x]) => x !== null));
}

/** The daemon.json keys SIGHUP applies (see CONFIG_KEYS). */
export const RELOADABLE_KEYS = (Object.keys(CONFIG_KEYS) as ConfigKeyName[]).filter(
  (k) => CONFIG_KEYS[k].reload,
);

export type Listener =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number; tls: boolean }
  /** systemd socket activation: `fd://` (every fd handed over) or `fd://N`. */
  | { kind: 'fd'; spec: string };

/**
 * Parses `-H` values; `fd://` is systemd's. A `tcp://` listener off loopback must
 * authenticate its clients (--tlsverify): as with Docker 27+, anything else would hand root to
 * whoever reaches the port. Unlike dockerd, there is no opt-out (`--tls=false`).
 */
export function parseHost(spec: string, auth: { tls: boolean; tlsVerify: boolean }): Listener {
  const tls = auth.tls || auth.tlsVerify;
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
    if (!loopback && !auth.tlsVerify) {
      const what = tls
        ? 'a TCP socket with --tls but without --tlsverify accepts any client'
        : 'an unauthenticated TCP socket';
      bad(
        `refusing to listen on ${spec}: ${what} off loopback gives root to anyone who can reach it; use --tlsverify with --tlscacert, --tlscert and --tlskey (docs/remote.md), or the unix socket, or ssh://, or bind to 127.0.0.1`,
      );
    }
    return { kind: 'tcp', host, port, tls };
  }
  if (spec.startsWith('fd://')) {
    if (!/^fd:\/\/(\d+)?$/.test(spec))
      bad(`invalid host "${spec}": use fd:// or fd://N (systemd socket activation)`);
    return { kind: 'fd', spec };
  }
  bad(`invalid host "${spec}": use unix:///path/to.sock, tcp://127.0.0.1:PORT or fd://`);
}
