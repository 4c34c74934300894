// The daemon.json keys Berth honours: one row per key with its JSON type, the flag that sets
// the same thing, whether SIGHUP reloads it, and its default. This table drives the file check
// (unknown keys, types, flag conflicts), `berthd --validate`, the reload and docs/configuration.md
// (test/unit/daemon/config-docs.test.ts fails when a row is missing there).

export type KeyType = 'string' | 'boolean' | 'integer' | 'string-list' | 'object';

export interface ConfigKey {
  readonly type: KeyType;
  /** The long flag that sets the same value (a conflict when both are given). */
  readonly flag?: string;
  /** Applied by SIGHUP without a restart (the keys Docker reloads). */
  readonly reload: boolean;
  /** The default, as docs/configuration.md shows it. */
  readonly default: string;
  readonly doc: string;
  /** Go's type of the field, for encoding/json's type errors (default: by `type`). */
  readonly goType?: string;
}

export const CONFIG_KEYS = {
  'data-root': {
    type: 'string',
    flag: 'data-root',
    reload: false,
    default: '/var/lib/berth',
    doc: 'Root of persistent state',
  },
  'exec-root': {
    type: 'string',
    flag: 'exec-root',
    reload: false,
    default: '/run/berth',
    doc: 'Root of runtime state (sockets, pid file, exit files)',
  },
  hosts: {
    type: 'string-list',
    flag: 'host',
    reload: false,
    default: 'unix:///run/berth/berth.sock',
    doc: 'Sockets to listen on: unix://PATH, tcp://HOST:PORT (off loopback only with tlsverify), fd:// (systemd)',
  },
  pidfile: {
    type: 'string',
    flag: 'pidfile',
    reload: false,
    default: '<exec-root>/berthd.pid',
    doc: 'PID file',
  },
  group: { type: 'string', flag: 'group', reload: false, default: 'berth', doc: 'Group of the unix socket' },
  debug: {
    type: 'boolean',
    flag: 'debug',
    reload: true,
    default: 'false',
    doc: 'Debug mode (log level debug)',
  },
  'log-level': {
    type: 'string',
    flag: 'log-level',
    reload: true,
    default: 'info',
    doc: 'debug, info, warn, error or fatal',
  },
  'log-driver': {
    type: 'string',
    flag: 'log-driver',
    reload: false,
    default: 'json-file',
    doc: 'Log driver of containers created without one (json-file, local, none, syslog, fluentd, gelf, journald)',
  },
  'log-opts': {
    type: 'object',
    reload: false,
    default: '{}',
    doc: 'Default options of that driver (strings), e.g. {"max-size": "10m"}',
  },
  labels: {
    type: 'string-list',
    reload: true,
    default: '[]',
    doc: 'Engine labels (key=value) shown by info',
  },
  'cri-socket': {
    type: 'string',
    flag: 'cri-socket',
    reload: false,
    default: '',
    doc: 'Serve the Kubernetes CRI (gRPC) on this socket, e.g. unix:///run/berth/cri.sock; empty: off',
  },
  'cri-streaming-address': {
    type: 'string',
    flag: 'cri-streaming-address',
    reload: false,
    default: '127.0.0.1:0',
    doc: 'host:port of the CRI streaming server (Exec, Attach, PortForward URLs); port 0 picks a free one',
  },
  'cni-conf-dir': {
    type: 'string',
    flag: 'cni-conf-dir',
    reload: false,
    default: '/etc/cni/net.d',
    doc: 'CRI pods: the folder whose first .conf/.conflist/.json (in lexical order) is the pod network',
  },
  'cni-bin-dir': {
    type: 'string',
    flag: 'cni-bin-dir',
    reload: false,
    default: '/usr/lib/cni',
    doc: 'CRI pods: where the CNI plugins are (a colon-separated list searched in order)',
  },
  'cgroup-parent': {
    type: 'string',
    flag: 'cgroup-parent',
    reload: false,
    default: '/berth',
    doc: 'Parent cgroup of containers created without --cgroup-parent (no `..`; taken below each hierarchy root)',
  },
  'default-runtime': {
    type: 'string',
    reload: false,
    default: 'runc',
    doc: 'OCI runtime of containers that name none',
  },
  runtimes: {
    type: 'object',
    reload: false,
    default: '{}',
    doc: 'More OCI runtimes: {"name": {"path": "...", "runtimeArgs": [...]}}',
  },
  'live-restore': {
    type: 'boolean',
    reload: true,
    default: 'true',
    doc: 'Containers keep running while berthd is down; false: berthd stops them when it stops',
  },
  'shutdown-timeout': {
    type: 'integer',
    flag: 'shutdown-timeout',
    reload: true,
    default: '15',
    doc: "Seconds berthd's shutdown may take before it exits anyway (raised to each container's stop timeout + 5 when live-restore is false); negative: no limit",
  },
  'default-ulimits': {
    type: 'object',
    flag: 'default-ulimit',
    reload: false,
    default: '{}',
    doc: 'Ulimits of containers that do not set them: {"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}}; the flag takes nofile=1024:2048',
    goType: 'map[string]*units.Ulimit',
  },
  'max-concurrent-downloads': {
    type: 'integer',
    reload: true,
    default: '3',
    doc: 'Layers downloaded in parallel per pull',
  },
  'max-concurrent-uploads': {
    type: 'integer',
    reload: true,
    default: '5',
    doc: 'Layers uploaded in parallel per push',
  },
  'insecure-registries': {
    type: 'string-list',
    reload: true,
    default: '[]',
    doc: 'Registries (host[:port] or CIDR) reached over plain HTTP or unverified TLS',
  },
  'registry-mirrors': {
    type: 'string-list',
    reload: true,
    default: '[]',
    doc: 'Mirrors of docker.io tried before it',
  },
  'registry-certs-dirs': {
    type: 'string-list',
    reload: false,
    default: '/etc/berth/certs.d, /etc/docker/certs.d',
    doc: 'Berth only: where <host:port>/ca.crt registry CAs are looked up',
  },
  bridge: {
    type: 'string',
    flag: 'bridge',
    reload: false,
    default: 'berth0',
    doc: 'Device name of the default bridge',
  },
  bip: {
    type: 'string',
    flag: 'bip',
    reload: false,
    default: 'a free 10.x subnet',
    doc: 'Gateway/prefix of the default bridge',
  },
  dns: {
    type: 'string-list',
    flag: 'dns',
    reload: false,
    default: "the host's resolvers",
    doc: 'DNS servers the embedded DNS forwards to',
  },
  'storage-driver': {
    type: 'string',
    reload: false,
    default: 'overlay2',
    doc: 'Only overlay2',
  },
  tls: {
    type: 'boolean',
    flag: 'tls',
    reload: false,
    default: 'false',
    doc: 'TLS on the TCP listeners (server certificate only; loopback only without tlsverify)',
  },
  tlsverify: {
    type: 'boolean',
    flag: 'tlsverify',
    reload: false,
    default: 'false',
    doc: 'TLS with client certificates signed by tlscacert (implies tls); required off loopback',
  },
  tlscacert: {
    type: 'string',
    flag: 'tlscacert',
    reload: false,
    default: '$DOCKER_CERT_PATH/ca.pem or ~/.docker/ca.pem',
    doc: 'CA that signs the client certificates accepted with tlsverify',
  },
  tlscert: {
    type: 'string',
    flag: 'tlscert',
    reload: false,
    default: '$DOCKER_CERT_PATH/cert.pem or ~/.docker/cert.pem',
    doc: "The daemon's TLS certificate (PEM)",
  },
  tlskey: {
    type: 'string',
    flag: 'tlskey',
    reload: false,
    default: '$DOCKER_CERT_PATH/key.pem or ~/.docker/key.pem',
    doc: "The daemon's TLS private key (PEM, unencrypted)",
  },
} as const satisfies Record<string, ConfigKey>;

export type ConfigKeyName = keyof typeof CONFIG_KEYS;

export function configKey(name: string): ConfigKey | undefined {
  return Object.hasOwn(CONFIG_KEYS, name) ? CONFIG_KEYS[name as ConfigKeyName] : undefined;
}

/** Go's name for a JSON value's type, as in encoding/json's "cannot unmarshal X" errors. */
function jsonTypeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  return typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'bool';
}

const GO_TYPES: Record<KeyType, string> = {
  string: 'string',
  boolean: 'bool',
  integer: 'int',
  'string-list': '[]string',
  object: 'map[string]types.Runtime',
};

/**
 * The type errors of a parsed daemon.json, in encoding/json's words (null keeps the default,
 * as in Go). Unknown keys are not checked here.
 */
export function typeErrors(file: Readonly<Record<string, unknown>>): string[] {
  const errors: string[] = [];
  for (const [name, value] of Object.entries(file)) {
    const key = configKey(name);
    if (!key || value === null) continue;
    const ok = (() => {
      switch (key.type) {
        case 'string':
          return typeof value === 'string';
        case 'boolean':
          return typeof value === 'boolean';
        case 'integer':
          return typeof value === 'number' && Number.isInteger(value);
        case 'string-list':
          return Array.isArray(value) && value.every((x) => typeof x === 'string');
        case 'object':
          return typeof value === 'object' && !Array.isArray(value);
      }
    })();
    if (ok) continue;
    // A list of the wrong element type is reported for the element, as Go does.
    const shown =
      key.type === 'string-list' && Array.isArray(value)
        ? jsonTypeName(value.find((x) => typeof x !== 'string'))
        : jsonTypeName(value);
    const goType =
      key.type === 'string-list' && Array.isArray(value) ? 'string' : (key.goType ?? GO_TYPES[key.type]);
    errors.push(`json: cannot unmarshal ${shown} into Go struct field Config.${name} of type ${goType}`);
  }
  return errors;
}
