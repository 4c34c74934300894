// Tar in and out for image layers: safe layer apply (confinement, whiteouts), directory to tar,
// compression sniffing.

export { type ApplyLayerOptions, type ApplyLayerResult, applyLayer } from './apply.ts';
export { type Compression, decompress, detectCompression } from './compression.ts';
export {
  type ExtraFile,
  type PackOptions,
  type PackPart,
  type PackPathOptions,
  packDirectory,
  packPath,
  packPaths,
  type PackTree,
  packTrees,
  rebaseName,
  tarOfFiles,
} from './pack.ts';
export { isTarHeader } from './tar-format.ts';
export { readXattrsRecursive } from './xattr.ts';
