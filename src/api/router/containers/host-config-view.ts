// HostConfig in inspect has every field Docker's has, whatever the create body held: Go fills a
// struct with zero values (and the daemon its defaults), so clients index fields freely
// (`{{.HostConfig.Memory}}`, docker-py's `inspect["HostConfig"]["CpuShares"]`). Field set and
// zero values of Docker 20.10's inspect of a container created with an empty HostConfig.
import { MASKED_PATHS, READONLY_PATHS } from '../../../runtime/index.ts';

const ZERO: Readonly<Record<string, unknown>> = {
  Binds: null,
  ContainerIDFile: '',
  PortBindings: null,
  VolumeDriver: '',
  VolumesFrom: null,
  CapAdd: null,
  CapDrop: null,
  Dns: null,
  DnsOptions: null,
  DnsSearch: null,
  ExtraHosts: null,
  GroupAdd: null,
  Cgroup: '',
  Links: null,
  OomScoreAdj: 0,
  PidMode: '',
  Privileged: false,
  PublishAllPorts: false,
  ReadonlyRootfs: false,
  SecurityOpt: null,
  UTSMode: '',
  UsernsMode: '',
  ConsoleSize: [0, 0],
  Isolation: '',
  CpuShares: 0,
  Memory: 0,
  NanoCpus: 0,
  CgroupParent: '',
  BlkioWeight: 0,
  BlkioWeightDevice: null,
  BlkioDeviceReadBps: null,
  BlkioDeviceWriteBps: null,
  BlkioDeviceReadIOps: null,
  BlkioDeviceWriteIOps: null,
  CpuPeriod: 0,
  CpuQuota: 0,
  CpuRealtimePeriod: 0,
  CpuRealtimeRuntime: 0,
  CpusetCpus: '',
  CpusetMems: '',
  Devices: null,
  DeviceCgroupRules: null,
  DeviceRequests: null,
  KernelMemory: 0,
  KernelMemoryTCP: 0,
  MemoryReservation: 0,
  MemorySwap: 0,
  MemorySwappiness: null,
  OomKillDisable: false,
  PidsLimit: null,
  Ulimits: null,
  CpuCount: 0,
  CpuPercent: 0,
  IOMaximumIOps: 0,
  IOMaximumBandwidth: 0,
};

/**
 * The zero values under what the record holds, with the values Berth applies when a field is
 * unset: /dev/shm of 64 MiB, a private IPC namespace, the host's cgroup namespace (none is
 * made), and the masked and read-only paths of an unprivileged container.
 */
export function withHostConfigDefaults(h: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const privileged = h.Privileged === true;
  return {
    ...ZERO,
    MaskedPaths: privileged ? null : [...MASKED_PATHS],
    ReadonlyPaths: privileged ? null : [...READONLY_PATHS],
    ...h,
    // Sent as zero or "" by the docker CLI for "the daemon's default", shown as that default.
    ShmSize: h.ShmSize || 64 << 20,
    IpcMode: h.IpcMode || 'private',
    CgroupnsMode: h.CgroupnsMode || 'host',
  };
}
