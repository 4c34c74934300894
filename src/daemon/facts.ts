// Host facts for /info and /version, read once at start-up where they cannot change.
import { accessSync, constants, promises as fsp, readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function findExecutable(name: string): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of (
    process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  ).split(':')) {
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export function cgroupVersion(): '1' | '2' {
  try {
    // cgroup2fs magic on /sys/fs/cgroup means a unified (v2) host.
    return statfsSync('/sys/fs/cgroup').type === 0x63677270 ? '2' : '1';
  } catch {
    return '1';
  }
}

const FS_NAMES: Record<number, string> = {
  61267: 'extfs',
  1481003842: 'xfs',
  2435016766: 'btrfs',
  16914836: 'tmpfs',
  2035054128: 'overlayfs',
  801189825: 'zfs',
};

export function backingFilesystem(dir: string): string {
  try {
    const t = statfsSync(dir).type;
    return FS_NAMES[t] ?? `0x${t.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

export function osRelease(): { pretty: string; version: string } {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const get = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
    return { pretty: get('PRETTY_NAME') || 'Linux', version: get('VERSION_ID') };
  } catch {
    return { pretty: 'Linux', version: '' };
  }
}

export function architecture(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

export function hostMemory(): number {
  return os.totalmem();
}

export async function readOrCreateEngineId(dataRoot: string, make: () => string): Promise<string> {
  const file = path.join(dataRoot, 'engine-id');
  try {
    return (await fsp.readFile(file, 'utf8')).trim();
  } catch {
    const id = make();
    await fsp.writeFile(file, `${id}\n`, { mode: 0o600 });
    return id;
  }
}
