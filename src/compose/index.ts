export { ComposeError } from './errors.ts';
export type { Where } from './errors.ts';
export { substitute, interpolateTree, InterpolationError } from './interpolate.ts';
export type { Lookup } from './interpolate.ts';
export { mergeModels } from './merge.ts';
export { parsePortShort, parseVolumeShort, canonicalService } from './shapes.ts';
export { shellSplit, checkDependencies } from './normalise.ts';
export { loadProject, findComposeFiles, normaliseProjectName } from './project.ts';
export type { LoadOptions, Project } from './project.ts';
export { ComposeApi, LABEL } from './engine.ts';
export type { ContainerSummary, ContainerInspect } from './engine.ts';
export {
  bytes,
  configHash,
  containerName,
  createBody,
  imageName,
  injectedFiles,
  services,
} from './create.ts';
export type { Service } from './create.ts';
export {
  ensureImages,
  ensureNetworksAndVolumes,
  inDependencyOrder,
  withRestartDependents,
  namespaceContainers,
  injectFiles,
  selectServices,
  up,
  waitContainer,
} from './convergence.ts';
export type { ImageBuilder, UpOptions } from './convergence.ts';
export { buildDependencies } from './convergence.ts';
export { down } from './down.ts';
export type { DownOptions } from './down.ts';
