// SIGHUP: berthd re-reads its flags and daemon.json and applies the keys Docker reloads
// (CONFIG_KEYS[k].reload). A file that does not parse or check changes nothing; a change to a
// key that needs a restart is logged and left for the next start.
import { CONFIG_KEYS, type ConfigKeyName } from './config-keys.ts';
import type { DaemonConfig } from './config.ts';

/** daemon.json key → DaemonConfig field, for every key the config keeps under its own field. */
const FIELD: Partial<Record<ConfigKeyName, keyof DaemonConfig>> = {
  'data-root': 'dataRoot',
  'exec-root': 'execRoot',
  hosts: 'hosts',
  pidfile: 'pidfile',
  group: 'group',
  debug: 'debug',
  'log-level': 'logLevel',
  labels: 'labels',
  'cgroup-parent': 'cgroupParent',
  'default-runtime': 'defaultRuntime',
  runtimes: 'runtimes',
  'live-restore': 'liveRestore',
  'shutdown-timeout': 'shutdownTimeout',
  'default-ulimits': 'defaultUlimits',
  'max-concurrent-downloads': 'maxConcurrentDownloads',
  'max-concurrent-uploads': 'maxConcurrentUploads',
  'insecure-registries': 'insecureRegistries',
  'registry-mirrors': 'registryMirrors',
  'registry-certs-dirs': 'registryCertsDirs',
  bridge: 'bridge',
  bip: 'bip',
  dns: 'dns',
  tls: 'tls',
};

/** Settings SIGHUP can change on a running daemon. */
export type Reloadable = Pick<
  DaemonConfig,
  | 'debug'
  | 'logLevel'
  | 'labels'
  | 'liveRestore'
  | 'shutdownTimeout'
  | 'maxConcurrentDownloads'
  | 'maxConcurrentUploads'
  | 'insecureRegistries'
  | 'registryMirrors'
>;

export interface ReloadPlan {
  /** The running daemon's settings after the reload. */
  readonly next: Reloadable;
  /** What changed, by daemon.json key, as the log shows it. */
  readonly changed: Readonly<Record<string, { from: unknown; to: unknown }>>;
  /** Keys whose new value waits for a restart. */
  readonly needRestart: readonly string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function planReload(current: DaemonConfig, next: DaemonConfig): ReloadPlan {
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  const needRestart: string[] = [];
  for (const [key, field] of Object.entries(FIELD) as [ConfigKeyName, keyof DaemonConfig][]) {
    if (same(current[field], next[field])) continue;
    if (CONFIG_KEYS[key].reload) changed[key] = { from: current[field], to: next[field] };
    else needRestart.push(key);
  }
  return {
    next: {
      debug: next.debug,
      logLevel: next.logLevel,
      labels: next.labels,
      liveRestore: next.liveRestore,
      shutdownTimeout: next.shutdownTimeout,
      maxConcurrentDownloads: next.maxConcurrentDownloads,
      maxConcurrentUploads: next.maxConcurrentUploads,
      insecureRegistries: next.insecureRegistries,
      registryMirrors: next.registryMirrors,
    },
    changed,
    needRestart,
  };
}
