// Entry names → confined relative paths. One concern per module (as node-tar does): this file
// only does the lexical part; `apply.ts` adds the on-disk checks (no symlinked parents).

import { InvalidArgumentError } from '../errdefs/index.ts';
import { displayName } from './tar-format.ts';

/** The error every unsafe or malformed layer entry fails the whole layer with. */
export function refuseEntry(name: string, problem: string): InvalidArgumentError {
  return new InvalidArgumentError(
    'LAYER_UNSAFE_ENTRY',
    `refusing layer entry ${JSON.stringify(displayName(name))}: ${problem}`,
  );
}

/**
 * Cleans a tar entry name (or hard link target) into a path relative to the layer root: drops
 * `./` and empty components, resolves `..` lexically, and returns `''` for the root itself.
 *
 * Refused:
 * - `..` that climbs above the root (`../x`, `a/../../x`);
 * - absolute names (`/etc/x`). Docker's Go code and GNU tar silently strip the leading `/`;
 *   we refuse instead. Layer tars written by Docker, BuildKit, containerd and Berth never
 *   contain absolute names, so one that does was crafted or mangled, and reinterpreting it
 *   quietly would hide that. Failing loudly is the safer default for untrusted input.
 * - NUL bytes (they cannot reach the kernel and would otherwise truncate the name).
 *
 * Lexical `..` inside the root (`a/../b` → `b`) is fine: the result is walked from the root
 * component by component with lstat, so `a` being a symlink does not matter.
 */
export function cleanEntryPath(raw: string, entryName: string, what = 'path'): string {
  if (raw === '') throw refuseEntry(entryName, `empty ${what}`);
  if (raw.includes('\0')) throw refuseEntry(entryName, `${what} contains a NUL byte`);
  if (raw.startsWith('/')) throw refuseEntry(entryName, `${what} is absolute`);
  const out: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw refuseEntry(entryName, `${what} escapes the layer root`);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

/** Parent of a cleaned relative path (`''` for top-level names and for the root). */
export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i === -1 ? '' : rel.slice(0, i);
}

export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}
