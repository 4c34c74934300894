// Why a COPY/ADD source was not found, when the reason is a symlink. Links are followed with the
// context (or stage) root acting as `/`, so `abs_link -> /etc/passwd` means `<root>/etc/passwd`
// and `up -> ../../x` means `<root>/x`; a user who expected the host's file deserves to be told
// that, rather than just "not found" for a name they can see in their directory.

import fs from 'node:fs';
import path from 'node:path';
import { hasMeta } from './glob.ts';
import { confineRelative, resolveInRoot } from './scope.ts';

/**
 * A note for the "not found" error of source `src` (as the user wrote it) under `root`: names
 * the first symlink on the way and where it leads inside the root. Empty when no symlink is
 * involved or the source has wildcards (then the note would be a guess).
 */
export function missingSourceNote(root: string, src: string, where = 'the build context'): string {
  const clean = confineRelative(src);
  if (clean === '.' || hasMeta(clean)) return '';
  const parts = clean.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    let r: ReturnType<typeof resolveInRoot>;
    try {
      r = resolveInRoot(root, prefix, false);
    } catch {
      return ''; // a loop: the resolver's own error says it better
    }
    if (r.stat === undefined) return '';
    if (!r.stat.isSymbolicLink()) continue;
    const target = fs.readlinkSync(path.join(path.resolve(root), r.rel));
    let resolved: string;
    try {
      resolved = resolveInRoot(root, clean).rel;
    } catch {
      return '';
    }
    return ` (${JSON.stringify(prefix)} is a symbolic link to ${JSON.stringify(target)}; links are followed inside ${where}, which acts as "/" for them, and ${JSON.stringify(`/${resolved}`)} does not exist there)`;
  }
  return '';
}
