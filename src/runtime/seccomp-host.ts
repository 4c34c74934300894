// Which seccomp architectures this kernel serves: asked once at daemon start of the
// berth-x32-probe helper (Node cannot make a raw system call), so the default profile can leave
// out what the kernel would refuse anyway (see withoutArches in seccomp.ts).
import { spawnSync } from 'node:child_process';

/** ['SCMP_ARCH_X32'] on an x86_64 kernel without the x32 ABI; [] otherwise or when unsure. */
export function unservedSeccompArches(probe: string | undefined, nodeArch: string = process.arch): string[] {
  if (nodeArch !== 'x64' || !probe) return [];
  const r = spawnSync(probe, [], { stdio: 'ignore', timeout: 5000 });
  // Exit 1 is the probe's "ENOSYS"; anything else (served, failed, killed) keeps the rules.
  return r.status === 1 ? ['SCMP_ARCH_X32'] : [];
}
