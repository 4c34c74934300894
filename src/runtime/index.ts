export { composeCommand, mergeEnv, replaceOrAppendEnv } from './command.ts';
export type { CommandSources } from './command.ts';
export { capabilitySet, DEFAULT_CAPABILITIES, generateSpec, MASKED_PATHS, READONLY_PATHS } from './spec.ts';
export type { SpecInput } from './spec.ts';
export type { OciDeviceCgroup, OciLinuxDevice, OciMount, OciSpec } from './spec-types.ts';
export { defaultSeccomp, resolveSeccompProfile } from './seccomp.ts';
export type { OciSeccomp } from './seccomp.ts';
export { parseGroup, parsePasswd, resolveUser } from './user.ts';
export type { ResolvedUser } from './user.ts';
export { ConmonRuntime, classifyRuntimeError } from './conmon.ts';
export type { CreateOptions, MonitorOptions, RuntimeState } from './conmon.ts';
export { parseCpuset, planResources, ULIMIT_NAMES, UPDATABLE_FIELDS } from './resources.ts';
export type {
  HostResourceFacts,
  OciResources,
  OciRlimit,
  ResourceFields,
  ResourcePlan,
} from './resources.ts';
export { CgroupPaths, cgroupVersion, hostHardLimits, oomKilled, readHostResourceFacts } from './cgroups.ts';
export { parseBlkio, parseIoStat, parseNetDev, parseProcStat, readCgroupSample } from './stats.ts';
export type { CgroupSample, NetworkStats } from './stats.ts';
