import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { span } from './trace.ts';

/** Prefix of every temporary file Berth writes; start-up recovery removes leftovers by it. */
export const TEMP_PREFIX = '.berth-tmp-';

export function tempPathFor(target: string): string {
  return path.join(
    path.dirname(target),
    `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${path.basename(target)}`,
  );
}

/** fsync a directory so a rename inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await span('fsync.dir', () => fh.sync());
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `target` so that a crash leaves either the old or the new content:
 * temp file in the same directory, fsync, rename, fsync the directory.
 */
export async function atomicWriteFile(
  target: string,
  data: string | Uint8Array,
  opts: { mode?: number; sync?: boolean } = {},
): Promise<void> {
  const tmp = tempPathFor(target);
  const fh = await fsp.open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    if (opts.sync !== false) await span('fsync.file', () => fh.sync());
  } catch (err) {
    await fh.close().catch(() => {});
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  if (opts.sync !== false) await fsyncDir(path.dirname(target));
}

export async function atomicWriteJson(
  target: string,
  value: unknown,
  opts: { mode?: number } = {},
): Promise<void> {
  await atomicWriteFile(target, `${JSON.stringify(value, null, 2)}\n`, opts);
}

/** Reads a JSON file; returns undefined when it does not exist. */
export async function readJsonIfExists(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Removes leftover temp files (from a crash mid-write) in `dir`, not recursing. Returns how many. */
export async function removeTempFiles(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX)) {
      await fsp.rm(path.join(dir, name), { recursive: true, force: true });
      n++;
    }
  }
  return n;
}
