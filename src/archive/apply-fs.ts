// Small synchronous filesystem helpers of the extractor (apply.ts): none follows a symlink.

import fs from 'node:fs';
import { InternalError, isBerthError } from '../errdefs/index.ts';
import { refuseEntry } from './entry-path.ts';
import { displayName } from './tar-format.ts';

export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function depth(rel: string): number {
  let n = 0;
  for (let i = 0; i < rel.length; i++) if (rel.charCodeAt(i) === 0x2f) n++;
  return n;
}

/** mkdir; false if the path exists (whatever it is). */
export function tryMkdir(p: Buffer, mode: number): boolean {
  try {
    fs.mkdirSync(p, mode);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return false;
    throw err;
  }
}

const SLASH = Buffer.from('/');

/** Removes a tree without following any symlink in it (they are unlinked, not entered). */
export function removeTree(p: Buffer): void {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (st === undefined) return;
  if (!st.isDirectory()) {
    fs.unlinkSync(p);
    return;
  }
  for (const name of fs.readdirSync(p, { encoding: 'buffer' })) removeTree(Buffer.concat([p, SLASH, name]));
  fs.rmdirSync(p);
}

/** writev at `position`, continuing after short writes. */
export async function writevAll(fd: number, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let pos = position;
  for (;;) {
    const n = await new Promise<number>((resolve, reject) =>
      fs.writev(fd, rest, pos, (err, written) => (err ? reject(err) : resolve(written))),
    );
    pos += n;
    let skip = n;
    let i = 0;
    while (i < rest.length && skip >= rest[i]!.length) skip -= rest[i++]!.length;
    if (i === rest.length) return;
    rest = [rest[i]!.subarray(skip), ...rest.slice(i + 1)];
  }
}

/** Keeps our own errors; turns fs errors into errors that name the entry. */
export function wrapFsError(err: unknown, entryName: string): Error {
  if (isBerthError(err) || (err as Error | undefined)?.name === 'AbortError') return err as Error;
  const code = errnoOf(err);
  if (code === 'ENAMETOOLONG') return refuseEntry(entryName, 'name too long');
  const msg = err instanceof Error ? err.message : String(err);
  return new InternalError(
    'LAYER_APPLY_FAILED',
    `applying layer entry ${JSON.stringify(displayName(entryName))}: ${msg}`,
    { cause: err },
  );
}
