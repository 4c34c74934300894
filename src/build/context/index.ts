// The build context: .dockerignore, safe extraction of the context tar, COPY/ADD source
// resolution and content checksums for the build cache.

export {
  dockerignoreFor,
  IgnoreMatcher,
  type LoadedDockerignore,
  loadDockerignore,
  parseDockerignore,
} from './dockerignore.ts';
export { BadPatternError, cleanPath, compileGlob, globMatch, hasMeta } from './glob.ts';
export {
  type ContextDockerfile,
  DEFAULT_DOCKERFILE,
  pruneBuildFiles,
  readContextDockerfile,
} from './build-files.ts';
export {
  type ChecksumCache,
  type ChecksumOptions,
  checksumSources,
  expandSourcePattern,
  fileIdentity,
} from './checksum.ts';
export { type ExtractContextOptions, type ExtractContextResult, extractContext } from './extract.ts';
export { missingSourceNote } from './missing.ts';
export { confineRelative, resolveInRoot, type ScopedPath } from './scope.ts';
export {
  checkContextName,
  detachNamedContexts,
  type NamedContext,
  type NamedContextSpec,
  parseNamedContexts,
} from './named.ts';
