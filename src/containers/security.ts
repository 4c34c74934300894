// HostConfig's security fields (Privileged, CapAdd/CapDrop, SecurityOpt, Devices, DeviceCgroupRules,
// IpcMode/PidMode/UTSMode, Sysctls) checked and turned into generateSpec inputs. `checkSecurity` runs
// at create so bad input is a 400 before anything exists; `securityInputs` runs at every start.
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError, InvalidArgumentError } from '../errdefs/index.ts';
import {
  type OciDeviceCgroup,
  type OciLinuxDevice,
  resolveSeccompProfile,
  type SpecInput,
} from '../runtime/index.ts';
import type { ContainerRecord, HostConfig } from './record.ts';

/** Linux capabilities by bit number (capability.h), for CapBnd and name checks. */
const CAP_NAMES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
].map((n) => `CAP_${n}`);

let bounding: string[] | undefined;
/** The capabilities in berthd's own bounding set: a container can never get more. */
export function hostBoundingCaps(): string[] {
  if (bounding) return bounding;
  const line = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s*([0-9a-f]+)/m);
  const mask = BigInt(`0x${line?.[1] ?? '0'}`);
  bounding = CAP_NAMES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
  return bounding;
}

function checkCaps(list: readonly string[] | null | undefined, flag: string): void {
  for (const c of list ?? []) {
    const up = c.toUpperCase();
    const n = up.startsWith('CAP_') ? up : `CAP_${up}`;
    if (n !== 'CAP_ALL' && !CAP_NAMES.includes(n))
      throw new InvalidArgumentError('INVALID_CAPABILITY', `invalid ${flag}: unknown capability: "${c}"`);
  }
}

interface SecurityOpts {
  seccomp: 'default' | 'unconfined' | unknown;
  noNewPrivileges: boolean;
}

function parseSecurityOpt(opts: readonly string[] | null | undefined): SecurityOpts {
  const out: SecurityOpts = { seccomp: 'default', noNewPrivileges: false };
  for (const o of opts ?? []) {
    const m = o.match(/^([a-z-]+)(?:[=:](.*))?$/s);
    const key = m?.[1];
    const val = m?.[2];
    if (key === 'no-new-privileges') {
      if (val !== undefined && val !== 'true' && val !== 'false')
        throw new InvalidArgumentError(
          'INVALID_SECURITY_OPT',
          `invalid --security-opt: "${o}": expected no-new-privileges[=true|false]`,
        );
      out.noNewPrivileges = val !== 'false';
    } else if (key === 'seccomp' && val !== undefined) {
      if (val === 'unconfined') out.seccomp = 'unconfined';
      else {
        let json: unknown;
        try {
          json = JSON.parse(val);
          resolveSeccompProfile(json, []);
        } catch (err) {
          throw new InvalidArgumentError(
            'INVALID_SECCOMP',
            `invalid --security-opt seccomp: decoding seccomp profile failed: ${(err as Error).message}`,
          );
        }
        out.seccomp = json;
      }
    } else if ((key === 'label' || key === 'apparmor') && val !== undefined) {
      // No SELinux or AppArmor on this host: accepted and ignored, as Docker does without them.
    } else {
      throw new InvalidArgumentError(
        'INVALID_SECURITY_OPT',
        `invalid --security-opt: "${o}": use seccomp=<unconfined|profile>, no-new-privileges, label=..., apparmor=...`,
      );
    }
  }
  return out;
}

interface DeviceMapping {
  PathOnHost: string;
  PathInContainer?: string;
  CgroupPermissions?: string;
}

export async function statDevice(
  hostPath: string,
): Promise<{ type: 'c' | 'b'; major: number; minor: number; mode: number }> {
  let st: Awaited<ReturnType<typeof fsp.stat>>;
  try {
    st = await fsp.stat(hostPath);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(err);
    throw new InvalidArgumentError(
      'INVALID_DEVICE',
      `error gathering device information while adding custom device "${hostPath}": ${why}`,
    );
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice())
    throw new InvalidArgumentError(
      'INVALID_DEVICE',
      `error gathering device information while adding custom device "${hostPath}": not a device node`,
    );
  const r = st.rdev;
  const major = Math.floor(r / 256) & 0xfff;
  const minor = (r & 0xff) | (Math.floor(r / 4096) & ~0xff);
  return { type: st.isCharacterDevice() ? 'c' : 'b', major, minor, mode: st.mode & 0o7777 };
}

const DEVICE_RULE = /^([acb]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/;
function parseDeviceRule(rule: string): OciDeviceCgroup {
  const m = rule.match(DEVICE_RULE);
  if (!m)
    throw new InvalidArgumentError(
      'INVALID_DEVICE_RULE',
      `invalid device cgroup rule "${rule}": expected e.g. 'c 1:3 rwm'`,
    );
  return {
    allow: true,
    type: m[1] as 'a' | 'c' | 'b',
    ...(m[2] !== '*' ? { major: Number(m[2]) } : {}),
    ...(m[3] !== '*' ? { minor: Number(m[3]) } : {}),
    access: m[4]!,
  };
}

/** Sysctls that live in a container's own namespaces (Docker's list). */
function checkSysctl(key: string, hostNet: boolean, hostIpc: boolean): void {
  const ipc =
    /^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\..+)$/.test(key);
  if (ipc) {
    if (hostIpc)
      throw new InvalidArgumentError(
        'INVALID_SYSCTL',
        `sysctl "${key}" is not allowed when sharing the host's IPC namespace (--ipc host)`,
      );
    return;
  }
  if (key.startsWith('net.')) {
    if (hostNet)
      throw new InvalidArgumentError(
        'INVALID_SYSCTL',
        `sysctl "${key}" is not allowed with --network host: it would change the host`,
      );
    return;
  }
  throw new InvalidArgumentError(
    'INVALID_SYSCTL',
    `sysctl "${key}" is not allowed: only namespaced sysctls (net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) can be set in a container`,
  );
}

type Find = (ref: string) => ContainerRecord;

function joinMode(mode: unknown, flag: string, allowed: readonly string[]): string | undefined {
  if (mode === undefined || mode === null || mode === '') return undefined;
  if (typeof mode !== 'string')
    throw new InvalidArgumentError('INVALID_PARAMETER', `invalid ${flag}: expected a string`);
  if (allowed.includes(mode) || mode.startsWith('container:')) return mode;
  throw new InvalidArgumentError(
    'INVALID_PARAMETER',
    `invalid ${flag} "${mode}": use ${allowed.join(', ')} or container:<name|id>`,
  );
}

/** Namespace path to join for a `container:<ref>` mode, from the target's running process. */
function joinContainer(mode: string, ns: string, find: Find, self: string): string {
  const target = find(mode.slice('container:'.length));
  if (target.id === self)
    throw new InvalidArgumentError(
      'INVALID_PARAMETER',
      `cannot join the ${ns} namespace of the container itself`,
    );
  if (target.state.status !== 'running' && target.state.status !== 'paused')
    throw new ConflictError(
      'NOT_RUNNING',
      `cannot join ${ns} namespace of a non running container: ${target.name} is ${target.state.status}`,
    );
  return `/proc/${target.state.pid}/ns/${ns}`;
}

/** Validates the security fields at create (throws 400/404 before anything exists). */
export async function checkSecurity(h: HostConfig, find: Find): Promise<void> {
  checkCaps(h.CapAdd, '--cap-add');
  checkCaps(h.CapDrop, '--cap-drop');
  parseSecurityOpt(h.SecurityOpt as string[] | undefined);
  for (const d of (h.Devices as DeviceMapping[] | null | undefined) ?? []) await statDevice(d.PathOnHost);
  for (const r of (h.DeviceCgroupRules as string[] | null | undefined) ?? []) parseDeviceRule(r);
  const ipc = joinMode(h.IpcMode, '--ipc', ['private', 'shareable', 'host', 'none']);
  const pid = joinMode(h.PidMode, '--pid', ['host']);
  joinMode(h.UTSMode, '--uts', ['host']);
  for (const m of [ipc, pid]) if (m?.startsWith('container:')) find(m.slice('container:'.length));
  for (const k of Object.keys((h.Sysctls as Record<string, string> | undefined) ?? {}))
    checkSysctl(k, h.NetworkMode === 'host', ipc === 'host');
}

/** Every /dev node of the host, for --privileged (pts/shm/mqueue are the container's own). */
export async function hostDevices(dir = '/dev'): Promise<OciLinuxDevice[]> {
  const out: OciLinuxDevice[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!['/dev/pts', '/dev/shm', '/dev/mqueue'].includes(p)) out.push(...(await hostDevices(p)));
    } else if (e.isCharacterDevice() || e.isBlockDevice()) {
      const d = await statDevice(p).catch(() => undefined);
      if (d)
        out.push({ path: p, type: d.type, major: d.major, minor: d.minor, fileMode: d.mode, uid: 0, gid: 0 });
    }
  }
  return out;
}

export type SecurityInputs = Pick<
  SpecInput,
  | 'privileged'
  | 'allCaps'
  | 'capAdd'
  | 'capDrop'
  | 'seccomp'
  | 'noNewPrivileges'
  | 'devices'
  | 'deviceRules'
  | 'sysctl'
  | 'namespaces'
>;

/** The generateSpec inputs for a container's security fields (resolved at each start). */
export async function securityInputs(rec: ContainerRecord, find: Find): Promise<SecurityInputs> {
  const h = rec.hostConfig;
  const allCaps = hostBoundingCaps();
  const opts = parseSecurityOpt(h.SecurityOpt as string[] | undefined);
  const privileged = h.Privileged === true;
  const devices: OciLinuxDevice[] = [];
  const deviceRules: OciDeviceCgroup[] = [];
  for (const d of (h.Devices as DeviceMapping[] | null | undefined) ?? []) {
    const s = await statDevice(d.PathOnHost);
    devices.push({
      path: d.PathInContainer || d.PathOnHost,
      type: s.type,
      major: s.major,
      minor: s.minor,
      fileMode: s.mode,
      uid: 0,
      gid: 0,
    });
    deviceRules.push({
      allow: true,
      type: s.type,
      major: s.major,
      minor: s.minor,
      access: d.CgroupPermissions || 'rwm',
    });
  }
  for (const r of (h.DeviceCgroupRules as string[] | null | undefined) ?? [])
    deviceRules.push(parseDeviceRule(r));
  if (privileged)
    devices.push(...(await hostDevices()).filter((d) => !devices.some((x) => x.path === d.path)));
  const namespaces: NonNullable<SpecInput['namespaces']> = {};
  const ipc = h.IpcMode as string | undefined;
  const pid = h.PidMode as string | undefined;
  if (ipc === 'host') namespaces.ipc = 'host';
  else if (ipc?.startsWith('container:')) namespaces.ipc = joinContainer(ipc, 'ipc', find, rec.id);
  if (pid === 'host') namespaces.pid = 'host';
  else if (pid?.startsWith('container:')) namespaces.pid = joinContainer(pid, 'pid', find, rec.id);
  if (h.UTSMode === 'host') namespaces.uts = 'host';
  return {
    privileged,
    allCaps,
    capAdd: h.CapAdd ?? [],
    capDrop: h.CapDrop ?? [],
    seccomp:
      opts.seccomp === 'default' || opts.seccomp === 'unconfined' ? opts.seccomp : { custom: opts.seccomp },
    noNewPrivileges: opts.noNewPrivileges,
    devices,
    deviceRules,
    sysctl: (h.Sysctls as Record<string, string> | undefined) ?? {},
    namespaces,
  };
}
