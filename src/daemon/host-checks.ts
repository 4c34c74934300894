// What /info reports about the kernel and the runtime, read from the machine at each /info (a
// few small /proc and /sys reads) so a sysctl changed since start-up shows up. Warnings are
// dockerd's texts and only ever true ones.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface KernelSupport {
  readonly memoryLimit: boolean;
  readonly swapLimit: boolean;
  readonly ipv4Forwarding: boolean;
  readonly bridgeNfIptables: boolean;
  readonly bridgeNfIp6tables: boolean;
  readonly seccomp: boolean;
}

function readTrimmed(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** cgroup v2 exposes memory.swap.max only in non-root cgroups with the memory controller. */
function v2SwapLimit(root: string): boolean {
  try {
    return readdirSync(root, { withFileTypes: true }).some(
      (d) => d.isDirectory() && existsSync(`${root}/${d.name}/memory.swap.max`),
    );
  } catch {
    return false;
  }
}

export function kernelSupport(cgroupVersion: '1' | '2', root = '/sys/fs/cgroup'): KernelSupport {
  const v2Controllers = (readTrimmed(`${root}/cgroup.controllers`) ?? '').split(/\s+/);
  const memoryLimit =
    cgroupVersion === '2'
      ? v2Controllers.includes('memory')
      : existsSync(`${root}/memory/memory.limit_in_bytes`);
  const swapLimit =
    cgroupVersion === '2'
      ? memoryLimit && v2SwapLimit(root)
      : existsSync(`${root}/memory/memory.memsw.limit_in_bytes`);
  // Missing files (br_netfilter not loaded) mean bridged traffic skips iptables: disabled.
  return {
    memoryLimit,
    swapLimit,
    ipv4Forwarding: readTrimmed('/proc/sys/net/ipv4/ip_forward') === '1',
    bridgeNfIptables: readTrimmed('/proc/sys/net/bridge/bridge-nf-call-iptables') === '1',
    bridgeNfIp6tables: readTrimmed('/proc/sys/net/bridge/bridge-nf-call-ip6tables') === '1',
    seccomp: /^Seccomp:\s*\d/m.test(readTrimmed('/proc/self/status') ?? ''),
  };
}

/** dockerd's warnings for what the kernel lacks, in docker info's order. */
export function kernelWarnings(k: KernelSupport): string[] {
  const w: string[] = [];
  if (!k.memoryLimit) w.push('WARNING: No memory limit support');
  if (!k.swapLimit) w.push('WARNING: No swap limit support');
  if (!k.ipv4Forwarding) w.push('WARNING: IPv4 forwarding is disabled');
  if (!k.bridgeNfIptables) w.push('WARNING: bridge-nf-call-iptables is disabled');
  if (!k.bridgeNfIp6tables) w.push('WARNING: bridge-nf-call-ip6tables is disabled');
  return w;
}

/** Docker's SecurityOptions: Berth applies its built-in seccomp profile; no AppArmor, no userns. */
export function securityOptions(k: KernelSupport): string[] {
  return k.seccomp ? ['name=seccomp,profile=builtin'] : [];
}

export interface RuntimeVersion {
  /** e.g. "1.1.5+ds1" */
  readonly version: string;
  /** The `commit:` line of `runc --version`, as Docker's RuncCommit.ID. */
  readonly commit: string;
}

/** `<runtime> --version`, asked once (a spawn) and remembered by the caller. */
export function runtimeVersion(path: string): Promise<RuntimeVersion> {
  return new Promise((resolve) => {
    execFile(path, ['--version'], { timeout: 5_000 }, (err, stdout) => {
      if (err) return resolve({ version: '', commit: '' });
      const version = /version\s+(\S+)/.exec(stdout)?.[1] ?? '';
      const commit = /^commit:\s*(\S+)/m.exec(stdout)?.[1] ?? '';
      resolve({ version, commit });
    });
  });
}
