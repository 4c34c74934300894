// Path resolution confined to the build context root. COPY/ADD sources are resolved the way
// Docker resolves them (FollowSymlinkInScope): symlinks are followed, but the context root acts
// as `/` for them — an absolute target starts again at the root and `..` never climbs above
// it — so no source can name a file outside the context.

import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { cleanPath } from './glob.ts';

/** Linux's limit on symlinks followed in one lookup (ELOOP beyond it). */
const MAX_SYMLINKS = 40;

/** A user-given source (`../x`, `/x`, `./a/b/`) as a clean path relative to the root (`.` = root). */
export function confineRelative(p: string): string {
  const c = cleanPath(`/${p}`);
  return c === '/' ? '.' : c.slice(1);
}

export interface ScopedPath {
  /** The resolved path relative to the root (`.` for the root). */
  readonly rel: string;
  /** Absolute host path of `rel`. */
  readonly abs: string;
  /** lstat of `abs`, undefined when nothing exists there. */
  readonly stat: fs.Stats | undefined;
}

/**
 * Resolves `rel` inside `root`, following symlinks within the root's scope. With
 * `followFinal` false the last component is not followed (a symlink there is returned as is).
 * A missing component ends the walk: the rest is appended unresolved and `stat` is undefined.
 */
export function resolveInRoot(root: string, rel: string, followFinal = true): ScopedPath {
  const rootAbs = path.resolve(root);
  const pending = confineRelative(rel)
    .split('/')
    .filter((s) => s !== '.' && s !== '');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    if (part === '.' || part === '') continue;
    const abs = path.join(rootAbs, ...done, part);
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (st === undefined) {
      const restRel = [...done, part, ...pending].join('/');
      return { rel: restRel, abs: path.join(rootAbs, restRel), stat: undefined };
    }
    if (st.isSymbolicLink() && (pending.length > 0 || followFinal)) {
      if (++hops > MAX_SYMLINKS) {
        throw new InvalidArgumentError(
          'BUILD_SYMLINK_LOOP',
          `too many levels of symbolic links resolving ${JSON.stringify(rel)} in the build context`,
        );
      }
      const target = fs.readlinkSync(abs);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/'));
      continue;
    }
    if (pending.length > 0 && !st.isDirectory()) {
      const restRel = [...done, part, ...pending].join('/');
      return { rel: restRel, abs: path.join(rootAbs, restRel), stat: undefined };
    }
    done.push(part);
  }
  const relOut = done.length === 0 ? '.' : done.join('/');
  const abs = done.length === 0 ? rootAbs : path.join(rootAbs, ...done);
  return { rel: relOut, abs, stat: fs.lstatSync(abs, { throwIfNoEntry: false }) };
}
