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
  if (raw.charCodeAt(0) === 0x2f) throw refuseEntry(entryName, `${what} is absolute`);
  // Fast path for the usual `./dir/file` and `dir/` shapes: no split, no join.
  let s = raw;
  while (s.startsWith('./')) s = s.slice(2);
  if (s.endsWith('/')) s = s.slice(0, -1);
  if (isClean(s)) return s;
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

/** True if no component of `s` is empty, `.` or `..` (and `s` is not empty). */
function isClean(s: string): boolean {
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    if (i < s.length && s.charCodeAt(i) !== 0x2f) continue;
    const len = i - start;
    if (len === 0) return false;
    if (s.charCodeAt(start) === 0x2e && (len === 1 || (len === 2 && s.charCodeAt(start + 1) === 0x2e)))
      return false;
    start = i + 1;
  }
  return true;
}

/** Parent of a cleaned relative path (`''` for top-level names and for the root). */
export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i === -1 ? '' : rel.slice(0, i);
}

export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** True if `target`, read relative to the directory `fromDir` (both relative to the root), leaves it. */
export function climbsOut(fromDir: string, target: string): boolean {
  let depthNow = fromDir === '' ? 0 : fromDir.split('/').length;
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (depthNow === 0) return true;
      depthNow--;
    } else {
      depthNow++;
    }
  }
  return false;
}
