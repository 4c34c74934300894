// OCI runtime spec generation with Docker's defaults: capability set, mounts, masked and
// read-only paths, device cgroup rules, namespaces. Pure: the caller supplies every fact.
import type { OciResources, OciRlimit } from './resources.ts';
import { defaultSeccomp, type OciSeccomp, resolveSeccompProfile } from './seccomp.ts';
import type { OciDeviceCgroup, OciLinuxDevice, OciMount, OciNamespace, OciSpec } from './spec-types.ts';

/** Docker's default capability set. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
] as const;

export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Device cgroup rules Docker allows by default (null, zero, full, random, urandom, tty, ptmx, pts, fuse is not). */
const DEFAULT_DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
] as const;

export interface SpecInput {
  readonly rootfs: string;
  readonly readonlyRootfs?: boolean;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: { uid: number; gid: number; additionalGids?: readonly number[] };
  readonly terminal: boolean;
  /** Initial terminal size (Docker's HostConfig.ConsoleSize), so the first output is laid out right. */
  readonly consoleSize?: { height: number; width: number };
  readonly hostname: string;
  readonly domainname?: string;
  readonly cgroupsPath: string;
  /** Extra mounts (volumes, /etc/hosts binds…), appended after the defaults. */
  readonly mounts?: readonly OciMount[];
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  readonly noNewPrivileges?: boolean;
  /** /dev/shm size in bytes (Docker's default is 64 MiB). */
  readonly shmSize?: number;
  /** Namespace paths to join instead of creating (e.g. `network: /run/netns/x`, or `host`). */
  readonly namespaces?: Partial<Record<OciNamespace['type'], string | 'host'>>;
  /** --privileged: every capability in `allCaps`, all devices, no seccomp, no masked paths, rw /sys. */
  readonly privileged?: boolean;
  /** The host's bounding set: what ALL and --privileged expand to. */
  readonly allCaps?: readonly string[];
  /** 'default' (Berth's generated profile), 'unconfined', or a profile in Docker's JSON format. */
  readonly seccomp?: 'default' | 'unconfined' | { readonly custom: unknown };
  /** Device nodes to create (--device, or all host devices when privileged). */
  readonly devices?: readonly OciLinuxDevice[];
  /** Extra device cgroup rules (--device-cgroup-rule and --device permissions). */
  readonly deviceRules?: readonly OciDeviceCgroup[];
  readonly sysctl?: Readonly<Record<string, string>>;
  /** cgroup limits (from planResources), merged beside the default device rules. */
  readonly resources?: OciResources;
  /** --ulimit values; none means the host's limits are inherited. */
  readonly rlimits?: readonly OciRlimit[];
  /** HostConfig.Annotations, passed through to the OCI runtime as Docker does. */
  readonly annotations?: Readonly<Record<string, string>>;
}

function normaliseCap(c: string): string {
  const up = c.toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/** Docker's --cap-add / --cap-drop semantics, including ALL. */
export function capabilitySet(
  add: readonly string[] = [],
  drop: readonly string[] = [],
  all: readonly string[] = [],
): string[] {
  const addN = add.map(normaliseCap);
  const dropN = drop.map(normaliseCap);
  let caps: string[] = dropN.includes('CAP_ALL') ? [] : [...DEFAULT_CAPABILITIES];
  if (addN.includes('CAP_ALL')) caps = [...all];
  for (const c of addN) if (c !== 'CAP_ALL' && !caps.includes(c)) caps.push(c);
  return caps.filter((c) => !dropN.includes(c) || addN.includes(c));
}

export function generateSpec(input: SpecInput): OciSpec {
  const priv = input.privileged === true;
  const caps = priv
    ? [...(input.allCaps ?? [])]
    : capabilitySet(input.capAdd, input.capDrop, input.allCaps).filter(
        (c) => !input.allCaps || input.allCaps.includes(c),
      );
  const sysRo = priv ? [] : ['ro'];
  const shm = input.shmSize ?? 64 << 20;
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...sysRo] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: [...sysRo, 'nosuid', 'noexec', 'nodev'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`],
    },
    ...(input.mounts ?? []),
  ];
  const nsTypes: OciNamespace['type'][] = ['pid', 'network', 'ipc', 'uts', 'mount'];
  const namespaces: OciNamespace[] = [];
  for (const type of nsTypes) {
    const want = input.namespaces?.[type];
    if (want === 'host' || (type === 'uts' && want === undefined && input.namespaces?.uts === 'host'))
      continue;
    namespaces.push(want ? { type, path: want } : { type });
  }
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: input.terminal,
      ...(input.terminal && input.consoleSize ? { consoleSize: { ...input.consoleSize } } : {}),
      user: {
        uid: input.user.uid,
        gid: input.user.gid,
        ...(input.user.additionalGids?.length ? { additionalGids: [...input.user.additionalGids] } : {}),
      },
      args: [...input.args],
      env: [...input.env],
      cwd: input.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      // Only asked-for rlimits: the host's are inherited. Docker's default RLIMIT_NOFILE of 1048576
      // cannot be set where the hard limit is lower and CAP_SYS_RESOURCE is absent.
      ...(input.rlimits?.length ? { rlimits: input.rlimits.map((r) => ({ ...r })) } : {}),
      ...(input.noNewPrivileges ? { noNewPrivileges: true } : {}),
      oomScoreAdj: 0,
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs ?? false },
    // runc cannot set a hostname without its own UTS namespace (--uts host).
    ...(input.namespaces?.uts === 'host' ? {} : { hostname: input.hostname }),
    ...(input.domainname && input.namespaces?.uts !== 'host' ? { domainname: input.domainname } : {}),
    mounts,
    linux: {
      namespaces,
      cgroupsPath: input.cgroupsPath,
      resources: {
        ...(input.resources ?? {}),
        devices: priv
          ? [{ allow: true, access: 'rwm' }]
          : [
              ...DEFAULT_DEVICE_RULES.map((r) => ({ ...r })),
              ...(input.deviceRules ?? []).map((r) => ({ ...r })),
            ],
      },
      ...(input.devices?.length ? { devices: input.devices.map((d) => ({ ...d })) } : {}),
      maskedPaths: priv ? [] : [...MASKED_PATHS],
      readonlyPaths: priv ? [] : [...READONLY_PATHS],
      ...(input.sysctl && Object.keys(input.sysctl).length ? { sysctl: { ...input.sysctl } } : {}),
      ...seccompField(input, caps),
    },
    ...(input.annotations && Object.keys(input.annotations).length
      ? { annotations: { ...input.annotations } }
      : {}),
  };
}

function seccompField(input: SpecInput, caps: readonly string[]): { seccomp?: OciSeccomp } {
  if (input.privileged || input.seccomp === 'unconfined') return {};
  if (input.seccomp === undefined || input.seccomp === 'default') return { seccomp: defaultSeccomp(caps) };
  return { seccomp: resolveSeccompProfile(input.seccomp.custom, caps) };
}
