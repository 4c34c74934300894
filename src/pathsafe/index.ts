// pathsafe: the one way to turn a user-supplied path into a path under a root (ARCHITECTURE.md
// §7). Every component is resolved inside the root, symlinks included, with the root acting as
// `/` (openat2 RESOLVE_IN_ROOT semantics): `..` never climbs above it, absolute link targets
// restart at it, more than 40 links fail with ELOOP. `resolveInRoot` gives a host path for a
// root nobody else changes while it is used (build context, a stage's snapshot, the content
// store); the `*InRoot` file operations in open.ts walk by file descriptor and re-check the fd,
// for roots a running container can change under us. beneath.ts takes paths literally, no
// symlink followed, for trees read as data (overlay upper dirs, layers).
//
// Callers (audited for issue 14; docs/architecture.md "In-root paths" has the whole list):
// build context sources and Dockerfile lookup (build/context/scope.ts re-exports this), RUN
// --mount bind sources (build/steps/run-mounts.ts), every container path through
// containers/rootfs.ts (WORKDIR and WorkingDir creation, COPY destinations, /etc/passwd and
// /etc/group lookups, volume copy-up sources), docker cp's stat (containers/archive.ts), and
// a RUN step's mount-point clean-up (containers/fsops.ts, changes.ts: *Beneath).
export { lstatBeneath, removeBeneath } from './beneath.ts';
export {
  assertFdInRoot,
  type MkdirOptions,
  type MkdirResult,
  mkdirAllInRoot,
  type Opened,
  type OpenOptions,
  openInRoot,
  readFileInRoot,
  writeFileInRoot,
} from './open.ts';
export {
  cleanRelative,
  MAX_SYMLINKS,
  type Resolved,
  type ResolveOptions,
  resolveInRoot,
  resolveInRootSync,
} from './resolve.ts';
