// The run/create flags beyond the core set: image pulling (--pull, -q, --platform), the
// container ID file, label files, the API socket, signal proxying, and the docker flags
// berthd cannot honour yet (each refused with its reason, never dropped).
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseDaemonHost } from '../../client/index.ts';
import { CliError, collect } from '../context.ts';
import {
  addUnsupported,
  CONTENT_TRUST,
  ISOLATION,
  type UnsupportedFlag,
  WINDOWS_ONLY,
} from './unsupported.ts';

export interface MoreRunOptions {
  pull: string;
  quiet?: boolean;
  cidfile?: string;
  labelFile: string[];
  platform?: string;
  useApiSocket?: boolean;
  volumeDriver?: string;
  userns?: string;
  sigProxy?: boolean;
}

const UNSUPPORTED: UnsupportedFlag[] = [
  {
    flags: '--cgroupns <string>',
    description: 'Cgroup namespace to use (host|private)',
    reason: 'containers always get a private cgroup namespace; "private" is the only choice',
    accept: (v) => v === '' || v === 'private',
  },
  WINDOWS_ONLY('--cpu-count <int>', 'CPU count'),
  WINDOWS_ONLY('--cpu-percent <int>', 'CPU percent'),
  WINDOWS_ONLY('--io-maxbandwidth <bytes>', 'Maximum IO bandwidth limit for the system drive'),
  WINDOWS_ONLY('--io-maxiops <uint>', 'Maximum IOps limit for the system drive'),
  {
    flags: '--cpu-rt-period <int>',
    description: 'Limit CPU real-time period in microseconds',
    reason: 'the CPU real-time scheduler is not available under cgroup v2',
  },
  {
    flags: '--cpu-rt-runtime <int>',
    description: 'Limit CPU real-time runtime in microseconds',
    reason: 'the CPU real-time scheduler is not available under cgroup v2',
  },
  CONTENT_TRUST,
  {
    flags: '--health-start-interval <duration>',
    description: 'Time between running the check during the start period (ms|s|m|h)',
    reason: 'Healthcheck.StartInterval is API 1.44; berthd runs checks at --health-interval',
  },
  ISOLATION,
];

/** `--userns`: only the host user namespace exists (berthd has no userns-remap). */
const USERNS: UnsupportedFlag = {
  flags: '--userns <string>',
  description: 'User namespace to use',
  reason: 'berthd has no userns-remap: "host" is the only user namespace',
  accept: (v) => v === '' || v === 'host',
};

const VOLUME_DRIVER: UnsupportedFlag = {
  flags: '--volume-driver <string>',
  description: 'Optional volume driver for the container',
  reason: 'Berth has only the "local" volume driver',
  accept: (v) => v === '' || v === 'local',
};

export function addMoreRunOptions(c: Command, isRun: boolean): Command {
  c.option('--pull <string>', 'Pull image before running ("always", "missing", "never")', 'missing')
    .option('-q, --quiet', 'Suppress the pull output')
    .option('--cidfile <string>', 'Write the container ID to the file')
    .option('--label-file <list>', 'Read in a line delimited file of labels', collect, [])
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--use-api-socket', 'Bind mount Docker API socket and required auth');
  if (isRun) {
    c.option('--sig-proxy', 'Proxy received signals to the process', true);
    c.addOption(c.createOption('--no-sig-proxy').hideHelp());
  }
  c.addOption(c.createOption('--no-disable-content-trust').hideHelp());
  return addUnsupported(c, [...UNSUPPORTED, USERNS, VOLUME_DRIVER]);
}

/** Checks what can be checked before anything is sent (docker's flag validation, exit 125). */
export function checkMoreRunOptions(o: MoreRunOptions): void {
  if (!['always', 'missing', 'never'].includes(o.pull))
    throw new CliError(
      `berth: invalid pull option: '${o.pull}': must be one of "always", "missing" or "never"`,
      125,
    );
  if (o.cidfile) {
    let exists = true;
    try {
      readFileSync(o.cidfile);
    } catch {
      exists = false;
    }
    if (exists)
      throw new CliError(
        `berth: container ID file found, make sure the other container isn't running or delete ${o.cidfile}`,
        125,
      );
  }
}

/** Labels of `--label-file` files: one `key=value` a line; blank lines and `#` comments skipped. */
export function labelsFromFiles(files: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw new CliError(
        `berth: open ${f}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`,
        125,
      );
    }
    for (const line of text.split(/\r?\n/)) {
      const t = line.trim();
      if (t && !t.startsWith('#')) out.push(t);
    }
  }
  return out;
}

/** The Mounts entry of `--use-api-socket`: the daemon's socket at docker's path inside the container. */
export function apiSocketMount(hostSpec: string): Record<string, unknown> {
  const t = parseDaemonHost(hostSpec);
  if (!('socketPath' in t))
    throw new CliError(
      'berth: --use-api-socket needs a unix socket daemon host (DOCKER_HOST=unix://...)',
      125,
    );
  return { Type: 'bind', Source: t.socketPath, Target: '/var/run/docker.sock' };
}

/** Writes the `--cidfile` once the container exists; refuses to overwrite (as docker does). */
export function writeCidFile(file: string | undefined, id: string): void {
  if (!file) return;
  try {
    writeFileSync(file, id, { flag: 'wx' });
  } catch (err) {
    throw new CliError(`berth: failed to create the container ID file: ${(err as Error).message}`, 125);
  }
}

/** Signals `run --sig-proxy` forwards to the container (docker forwards all but these few). */
export const PROXIED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
];
