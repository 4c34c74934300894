// Content checksums of COPY/ADD sources for the build cache, and COPY/ADD source wildcards.
//
// A step's cache key must change exactly when what it copies changes. What it copies is, per
// source, the tree below it: names, file types, permission bits, owners, file contents and
// symlink targets. Times are deliberately left out (a fresh `git clone` or a re-extracted
// context has new mtimes but the same files, and Docker reuses the cache then too).
//
// Layout of the hashed stream (one record per node, in order: sources as given, each tree
// depth-first with names sorted bytewise): a JSON array
//   [source index, path below the source, type, mode & 0o7777, uid, gid, size, digest-or-target]
// followed by `\n`. JSON keeps names with any bytes unambiguous (they are latin-1 decoded, so
// each byte is one code unit).

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { NotFoundError } from '../../errdefs/index.ts';
import { compileGlob, hasMeta } from './glob.ts';
import { missingSourceNote } from './missing.ts';
import { confineRelative, resolveInRoot } from './scope.ts';

/** Files hashed at once. */
const PARALLEL = 8;
/** Files up to this size are read in one call instead of streamed. */
const SMALL_FILE = 1 << 20;

/**
 * Content digests that outlive one call (e.g. one per build, shared by its COPY steps), keyed
 * by inode identity plus size, mtime and ctime: any write to a file changes its ctime.
 */
export type ChecksumCache = Map<string, string>;

export interface ChecksumOptions {
  readonly cache?: ChecksumCache;
  readonly signal?: AbortSignal;
  /**
   * Leaves a node below a source (and its subtree) out, e.g. COPY --exclude: called with the
   * source as given joined with the path below it (`src/a/b.txt` for source `src`).
   */
  readonly skip?: (path: string) => boolean;
}

type NodeType = 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';

interface NodeRecord {
  readonly source: number;
  readonly rel: string; // latin-1 decoded bytes
  readonly type: NodeType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Content digest (files, filled in later) or link target (symlinks). */
  extra: string;
}

function typeOf(st: fs.BigIntStats): NodeType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'socket';
}

/** A file's key in a ChecksumCache: any change to the file changes its ctime, so the key. */
export function fileIdentity(st: fs.BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

async function hashFile(abs: Buffer, size: number): Promise<string> {
  const h = createHash('sha256');
  // O_NOFOLLOW: the walk saw a regular file here; never read through a symlink swapped in since.
  const fh = await fs.promises.open(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    if (size <= SMALL_FILE) h.update(await fh.readFile());
    else for await (const chunk of fh.createReadStream({ autoClose: false })) h.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

const SLASH = Buffer.from('/');

/**
 * A sha256 (`sha256:<hex>`) over the sources `relPaths` (relative to the context `root`, as
 * expandSourcePattern returns them): symlinks on the way to each source are followed inside the
 * root; below a source directory, symlinks are recorded, not followed. A missing source is a
 * NotFoundError naming it.
 */
export async function checksumSources(
  root: string,
  relPaths: readonly string[],
  opts: ChecksumOptions = {},
): Promise<string> {
  const records: NodeRecord[] = [];
  /** Files whose digest is still needed: record index → absolute path and identity. */
  const pending: { record: NodeRecord; abs: Buffer; size: number; key: string }[] = [];
  const cache = opts.cache ?? new Map<string, string>();

  const visit = (source: number, abs: Buffer, rel: string): void => {
    opts.signal?.throwIfAborted();
    const st = fs.lstatSync(abs, { bigint: true });
    const type = typeOf(st);
    const rec: NodeRecord = {
      source,
      rel,
      type,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: type === 'file' ? Number(st.size) : 0,
      extra: '',
    };
    records.push(rec);
    if (type === 'symlink') {
      rec.extra = fs.readlinkSync(abs, { encoding: 'buffer' }).toString('latin1');
    } else if (type === 'file') {
      pending.push({ record: rec, abs, size: rec.size, key: fileIdentity(st) });
    } else if (type === 'dir') {
      const names = fs.readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare);
      for (const name of names) {
        const childRel = rel === '' ? name.toString('latin1') : `${rel}/${name.toString('latin1')}`;
        if (opts.skip) {
          const given = relPaths[source]!;
          const below = Buffer.from(childRel, 'latin1').toString('utf8');
          if (opts.skip(given === '.' ? below : `${given}/${below}`)) continue;
        }
        visit(source, Buffer.concat([abs, SLASH, name]), childRel);
      }
    }
  };

  relPaths.forEach((p, i) => {
    const r = resolveInRoot(root, p);
    if (r.stat === undefined) {
      throw new NotFoundError(
        'BUILD_SOURCE_NOT_FOUND',
        `file not found in build context or excluded by .dockerignore: ${JSON.stringify(p)}${missingSourceNote(root, p)}`,
      );
    }
    visit(i, Buffer.from(r.abs), '');
  });

  // Hash contents, PARALLEL at a time; the same inode is read once per cache.
  const inflight = new Map<string, Promise<string>>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pending.length) {
      const job = pending[next++]!;
      opts.signal?.throwIfAborted();
      let digest = cache.get(job.key);
      if (digest === undefined) {
        let p = inflight.get(job.key);
        if (p === undefined) {
          p = hashFile(job.abs, job.size);
          inflight.set(job.key, p);
        }
        digest = await p;
        cache.set(job.key, digest);
      }
      job.record.extra = digest;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, pending.length) }, worker));

  const h = createHash('sha256');
  for (const r of records) {
    h.update(
      `${JSON.stringify([r.source, r.rel, r.type, r.mode, r.uid, r.gid, r.size, r.extra])}\n`,
      'latin1',
    );
  }
  return `sha256:${h.digest('hex')}`;
}

/**
 * COPY/ADD source wildcards: Go filepath.Match per path component, relative to the context
 * root. `..` and absolute sources are confined to the root first (`../x` and `/x` both mean
 * `x`, as in Docker). Returns the matching paths relative to the root, sorted; an empty array
 * when nothing matches (the caller reports it). A source without wildcards is returned as is
 * when it exists (after following symlinks inside the root).
 */
export async function expandSourcePattern(root: string, pattern: string): Promise<string[]> {
  const clean = confineRelative(pattern);
  if (!hasMeta(clean)) return resolveInRoot(root, clean).stat === undefined ? [] : [clean];
  let current: string[] = ['.'];
  for (const seg of clean.split('/')) {
    const next: string[] = [];
    if (!hasMeta(seg)) {
      for (const dir of current) {
        const rel = dir === '.' ? seg : `${dir}/${seg}`;
        if (resolveInRoot(root, rel).stat !== undefined) next.push(rel);
      }
    } else {
      const re = compileGlob(seg);
      for (const dir of current) {
        const r = resolveInRoot(root, dir);
        if (!r.stat?.isDirectory()) continue;
        let names: string[];
        try {
          names = await fs.promises.readdir(r.abs);
        } catch {
          continue;
        }
        for (const name of names.sort()) {
          if (re.test(name)) next.push(dir === '.' ? name : `${dir}/${name}`);
        }
      }
    }
    current = next;
    if (current.length === 0) break;
  }
  return current.sort();
}
