// Path resolution confined to the build context root, now provided by src/pathsafe/ (the one
// in-root resolver). Kept as a re-export so the context's callers keep their names; sources
// are cleaned lexically first, as Docker cleans a COPY source before resolving it.
import { cleanRelative, type Resolved, resolveInRootSync } from '../../pathsafe/index.ts';

/** A user-given source (`../x`, `/x`, `./a/b/`) as a clean path relative to the root (`.` = root). */
export const confineRelative = cleanRelative;

export type ScopedPath = Resolved;

/** Resolves `rel` inside `root`, following symlinks within it (not the last one unless `followFinal`). */
export function resolveInRoot(root: string, rel: string, followFinal = true): ScopedPath {
  return resolveInRootSync(root, cleanRelative(rel), { followFinal, scope: 'the build context' });
}
