// COPY/ADD sources: wildcard patterns resolved against a root (the context or another stage's
// filesystem) with Go's filepath.Match rules per path segment, confined to that root.
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** Go filepath.Match for one segment (no `/`): `*`, `?`, `[...]` with `^`/`!` and ranges, `\` escapes. */
export function segmentRegExp(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '\\' && i + 1 < seg.length) re += `\\${seg[++i]}`;
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let body = seg.slice(i + 1, end);
        if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\(?!.)/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

export function hasWildcard(p: string): boolean {
  return /[*?[]/.test(p);
}

/**
 * Relative paths (from `root`) matching `pattern`; `..` and absolute patterns stay inside the
 * root, as Docker resolves them. Empty when nothing matches.
 */
export async function resolveSources(root: string, pattern: string): Promise<string[]> {
  const clean = path.posix.resolve('/', pattern).slice(1);
  if (clean === '') return ['.'];
  if (!hasWildcard(clean)) {
    const exists = await fsp.lstat(path.join(root, clean)).then(
      () => true,
      () => false,
    );
    return exists ? [clean] : [];
  }
  let found = [''];
  for (const seg of clean.split('/')) {
    const next: string[] = [];
    for (const dir of found) {
      if (!hasWildcard(seg)) {
        const p = dir ? `${dir}/${seg}` : seg;
        if (await fsp.lstat(path.join(root, p)).catch(() => undefined)) next.push(p);
        continue;
      }
      const re = segmentRegExp(seg);
      const names = await fsp.readdir(path.join(root, dir)).catch(() => [] as string[]);
      for (const n of names.sort()) if (re.test(n)) next.push(dir ? `${dir}/${n}` : n);
    }
    found = next;
  }
  return found;
}
