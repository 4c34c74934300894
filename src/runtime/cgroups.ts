// Host facts for resource validation and per-container cgroup reads (OOM, stats). cgroup v1 and
// v2 are told apart once at start-up; only v1 is exercised on the development machine.
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type HostResourceFacts, parseCpuset } from './resources.ts';

const ROOT = '/sys/fs/cgroup';

export function cgroupVersion(): 1 | 2 {
  try {
    // v2 unified mount has cgroup.controllers at its root; a v1 host has per-controller dirs.
    statSync(path.join(ROOT, 'cgroup.controllers'));
    return 2;
  } catch {
    return 1;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function readSet(p: string): Set<number> {
  try {
    return parseCpuset(readFileSync(p, 'utf8').trim());
  } catch {
    return new Set([0]);
  }
}

/** berthd's own hard limits from /proc/self/limits, keyed by OCI rlimit name. */
export function hostHardLimits(text: string): Record<string, number> {
  const names: Record<string, string> = {
    'Max cpu time': 'RLIMIT_CPU',
    'Max file size': 'RLIMIT_FSIZE',
    'Max data size': 'RLIMIT_DATA',
    'Max stack size': 'RLIMIT_STACK',
    'Max core file size': 'RLIMIT_CORE',
    'Max resident set': 'RLIMIT_RSS',
    'Max processes': 'RLIMIT_NPROC',
    'Max open files': 'RLIMIT_NOFILE',
    'Max locked memory': 'RLIMIT_MEMLOCK',
    'Max address space': 'RLIMIT_AS',
    'Max file locks': 'RLIMIT_LOCKS',
    'Max pending signals': 'RLIMIT_SIGPENDING',
    'Max msgqueue size': 'RLIMIT_MSGQUEUE',
    'Max nice priority': 'RLIMIT_NICE',
    'Max realtime priority': 'RLIMIT_RTPRIO',
    'Max realtime timeout': 'RLIMIT_RTTIME',
  };
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    const type = m && names[m[1]!.trim()];
    if (type && m[3] !== 'unlimited') out[type] = Number(m[3]);
  }
  return out;
}

export function readHostResourceFacts(): HostResourceFacts {
  const v = cgroupVersion();
  const v1 = (ctl: string, file: string) => exists(path.join(ROOT, ctl, file));
  return {
    cgroupVersion: v,
    onlineCpus: readSet('/sys/devices/system/cpu/online'),
    onlineMems: readSet('/sys/devices/system/node/online'),
    hardLimits: hostHardLimits(readFileSync('/proc/self/limits', 'utf8')),
    swapLimit: v === 2 || v1('memory', 'memory.memsw.limit_in_bytes'),
    swappiness: v === 1 && v1('memory', 'memory.swappiness'),
    // v2's io.weight lives in child cgroups only (none at the root to probe): assume io is delegated.
    blkioWeight: v === 2 || v1('blkio', 'blkio.weight'),
    blkioThrottle: v === 2 || v1('blkio', 'blkio.throttle.read_bps_device'),
    deviceNumber: (p) => {
      try {
        const st = statSync(p);
        if (!st.isBlockDevice()) return undefined;
        // Linux dev_t: major in bits 8-19, minor in bits 0-7 and 20-31.
        return { major: (st.rdev >> 8) & 0xfff, minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
      } catch {
        return undefined;
      }
    },
  };
}

/** Where one container's cgroup files live. */
export class CgroupPaths {
  constructor(
    readonly version: 1 | 2,
    /** The OCI cgroupsPath, e.g. `/berth/<id>`. */
    readonly cgroupsPath: string,
  ) {}
  file(controller: string, name: string): string {
    return this.version === 2
      ? path.join(ROOT, this.cgroupsPath, name)
      : path.join(ROOT, controller, this.cgroupsPath, name);
  }
}

async function readText(p: string): Promise<string | undefined> {
  return readFile(p, 'utf8').catch(() => undefined);
}

/** Did the kernel OOM-kill a process of this cgroup? Read before the cgroup is removed. */
export async function oomKilled(cg: CgroupPaths): Promise<boolean> {
  if (cg.version === 2) {
    const ev = await readText(cg.file('', 'memory.events'));
    return Number(/^oom_kill (\d+)/m.exec(ev ?? '')?.[1] ?? 0) > 0;
  }
  const oc = await readText(cg.file('memory', 'memory.oom_control'));
  if (!oc) return false;
  const kills = /^oom_kill (\d+)/m.exec(oc)?.[1];
  if (kills !== undefined) return Number(kills) > 0;
  return /^under_oom 1/m.test(oc);
}
