// `run`/`create` flags for security options, turned into HostConfig fields the way the docker CLI does
// (a seccomp profile path is read here and sent as its JSON content).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../context.ts';

export interface SecurityFlags {
  privileged?: boolean;
  securityOpt: string[];
  device: string[];
  deviceCgroupRule: string[];
  ipc?: string;
  pid?: string;
  uts?: string;
  sysctl: string[];
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function addSecurityOptions(c: Command): Command {
  return c
    .option('--privileged', 'Give extended privileges to this container')
    .option('--security-opt <list>', 'Security Options', collect, [])
    .option('--device <list>', 'Add a host device to the container', collect, [])
    .option('--device-cgroup-rule <list>', 'Add a rule to the cgroup allowed devices list', collect, [])
    .option('--ipc <string>', 'IPC mode to use')
    .option('--pid <string>', 'PID namespace to use')
    .option('--uts <string>', 'UTS namespace to use')
    .option('--sysctl <map>', 'Sysctl options', collect, []);
}

function securityOpt(o: string): string {
  const m = o.match(/^seccomp[=:](.*)$/s);
  if (!m || m[1] === 'unconfined') return o;
  try {
    // Re-serialised compactly, as the docker CLI sends it.
    return `seccomp=${JSON.stringify(JSON.parse(readFileSync(m[1]!, 'utf8')))}`;
  } catch (err) {
    throw new CliError(`opening seccomp profile (${m[1]}) failed: ${(err as Error).message}`);
  }
}

function device(spec: string) {
  const parts = spec.split(':');
  const host = parts[0]!;
  let inCtr = host;
  let perms = 'rwm';
  if (parts.length === 3) [, inCtr, perms] = parts as [string, string, string];
  else if (parts.length === 2) {
    if (/^[rwm]+$/.test(parts[1]!)) perms = parts[1]!;
    else inCtr = parts[1]!;
  }
  return { PathOnHost: host, PathInContainer: inCtr, CgroupPermissions: perms };
}

export function securityHostConfig(o: SecurityFlags): Record<string, unknown> {
  return {
    ...(o.privileged ? { Privileged: true } : {}),
    ...(o.securityOpt.length ? { SecurityOpt: o.securityOpt.map(securityOpt) } : {}),
    ...(o.device.length ? { Devices: o.device.map(device) } : {}),
    ...(o.deviceCgroupRule.length ? { DeviceCgroupRules: o.deviceCgroupRule } : {}),
    ...(o.ipc ? { IpcMode: o.ipc } : {}),
    ...(o.pid ? { PidMode: o.pid } : {}),
    ...(o.uts ? { UTSMode: o.uts } : {}),
    ...(o.sysctl.length
      ? {
          Sysctls: Object.fromEntries(
            o.sysctl.map((s) => {
              const i = s.indexOf('=');
              return [s.slice(0, i), s.slice(i + 1)];
            }),
          ),
        }
      : {}),
  };
}
