export { ComposeError } from './errors.ts';
export type { Where } from './errors.ts';
export { substitute, interpolateTree, InterpolationError } from './interpolate.ts';
export type { Lookup } from './interpolate.ts';
export { mergeModels } from './merge.ts';
export { parsePortShort, parseVolumeShort, canonicalService } from './shapes.ts';
export { shellSplit, checkDependencies } from './normalise.ts';
export { loadProject, findComposeFiles, normaliseProjectName } from './project.ts';
export type { LoadOptions, Project } from './project.ts';
