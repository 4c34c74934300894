export type { BuildServiceDeps, CacheUsage } from './service.ts';
export { BuildService } from './service.ts';
export type { BuildEvent, BuildRequest, BuildResult } from './types.ts';
export { RunFailedError } from './steps/run.ts';
export { parseDockerfile } from './dockerfile/parser.ts';
