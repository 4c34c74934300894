export { composeCommand, mergeEnv, replaceOrAppendEnv } from './command.ts';
export type { CommandSources } from './command.ts';
export { capabilitySet, DEFAULT_CAPABILITIES, generateSpec, MASKED_PATHS, READONLY_PATHS } from './spec.ts';
export type { SpecInput } from './spec.ts';
export type { OciMount, OciSpec } from './spec-types.ts';
export { parseGroup, parsePasswd, resolveUser } from './user.ts';
export type { ResolvedUser } from './user.ts';
export { ConmonRuntime, classifyRuntimeError } from './conmon.ts';
export type { CreateOptions, MonitorOptions, RuntimeState } from './conmon.ts';
