// Safe extraction of an uncompressed layer tar into an empty directory, with OCI whiteouts
// turned into overlayfs whiteouts.
//
// The threat model: the archive is hostile, the destination is ours (nothing else writes there
// while we extract). Entries are applied strictly in order, one at a time, so the archive
// cannot race itself; the only way a symlink can sit on an entry's path is that an earlier entry
// put it there. So:
//  - every name is cleaned lexically and confined (entry-path.ts);
//  - every parent component is lstat'ed once and must be a real directory (or is created as
//    one); verified directories are cached, and the cache entries of anything we remove are
//    dropped, so the cache always describes the disk;
//  - the final component is never followed: files are created with O_CREAT|O_EXCL|O_NOFOLLOW
//    and all metadata is set on the fd, links/nodes are created with calls that fail on an
//    existing path, ownership and times use lchown/lutimes; an existing path is removed first
//    (never followed) and the call retried;
//  - work deferred to the end (directory modes and times, xattrs) only touches paths whose
//    parents are still cached directories; xattrs are also flushed before any removal.
//
// Speed: per entry the work is a handful of syscalls, done with the synchronous fs API (a few
// microseconds each, versus a thread-pool round trip per async call) with a yield to the event
// loop at least every few milliseconds. Large file contents are written asynchronously as they
// stream in, so slow disks block the thread pool, not the event loop.

import { createHash, type Hash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { TEMP_PREFIX } from '../base/atomic.ts';
import { InternalError, InvalidArgumentError } from '../errdefs/index.ts';
import { depth, errnoOf, removeTree, tryMkdir, wrapFsError, writevAll } from './apply-fs.ts';
import { baseOf, cleanEntryPath, climbsOut, parentOf, refuseEntry } from './entry-path.ts';
import { displayName, nameToBytes } from './tar-format.ts';
import { type TarEntry, TarReader } from './tar-reader.ts';
import { applyXattrs, isValidXattrName, runTool, type XattrBatch } from './xattr.ts';

export interface ApplyLayerOptions {
  readonly signal?: AbortSignal;
  /** Create char/block device entries; default: when running as root. Otherwise they fail the layer. */
  readonly allowDevices?: boolean;
  /**
   * For `cp` rather than layers: `.wh.` names are ordinary files (default true: OCI whiteouts
   * become overlayfs whiteouts).
   */
  readonly whiteouts?: boolean;
  /**
   * Ownership of what is created: `keep` the archive's uid/gid (default, as root), `none` (the
   * creating user owns everything), or one fixed owner.
   */
  readonly owner?: 'keep' | 'none' | { readonly uid: number; readonly gid: number };
  /** Maps each raw entry name (and hard link target) before it is cleaned (`cp` rebasing). */
  readonly rename?: (name: string) => string;
  /** Refuse to replace a directory with a non-directory or the reverse (docker cp). */
  readonly noOverwriteDirNonDir?: boolean;
  /**
   * Refuse symlinks whose relative target climbs above the root (`a/l -> ../../x`), as Docker's
   * Untar does for build contexts. Absolute targets stay allowed (they are never followed here).
   */
  readonly confineSymlinks?: boolean;
  /**
   * Called for every regular file written, with its open fd (content and metadata final) and
   * the sha256 (hex) of its content, hashed as it was written: the build context's checksums
   * need no second read of the files.
   */
  readonly onFileDigest?: (fd: number, sha256: string) => void;
}

export interface ApplyLayerResult {
  /** Total bytes of regular file content written. */
  readonly size: number;
  /** Entries applied (every kind, whiteouts included; not the root entry `./`). */
  readonly entries: number;
}

const WHITEOUT_PREFIX = '.wh.';
const WHITEOUT_META_PREFIX = '.wh..wh.';
const WHITEOUT_OPAQUE = '.wh..wh..opq';
const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** Files up to this size are read whole and written with one call. */
const SMALL_FILE = 1 << 20;
/** Largest single write of a large file, and how much may be in flight. */
const WRITE_BATCH = 1 << 20;
const MAX_INFLIGHT_WRITES = 8 << 20;
/**
 * Longest stretch of synchronous work before yielding to the event loop: keeps berthd
 * responsive, and lets read-ahead I/O completions in (see TarReader).
 */
const SLICE_MS = 2;

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/** Metadata applied to an explicit directory entry at the end (children change its mtime). */
interface DirMeta {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly atime: number;
  readonly mtime: number;
}

/**
 * Extracts an uncompressed layer tar into `dest`, an existing empty directory owned by Berth.
 * Any unsafe entry fails the whole layer with an InvalidArgumentError naming the entry; `dest`
 * is then left partially written and the caller removes it. `tar` is consumed to its end on
 * success and destroyed on failure.
 */
export async function applyLayer(
  tar: Readable,
  dest: string,
  opts: ApplyLayerOptions = {},
): Promise<ApplyLayerResult> {
  const { signal } = opts;
  const root = path.resolve(dest);
  const st = fs.lstatSync(root, { throwIfNoEntry: false });
  if (signal?.aborted || !st?.isDirectory()) {
    tar.destroy();
    signal?.throwIfAborted();
    throw new InvalidArgumentError(
      'LAYER_DEST_INVALID',
      `layer destination ${JSON.stringify(root)} is not a directory`,
    );
  }
  const isRoot = process.geteuid?.() === 0;
  const reader = new TarReader(tar);
  const onAbort = (): void => {
    tar.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const ex = new Extractor(root, st, {
    isRoot,
    allowDevices: opts.allowDevices ?? isRoot,
    signal,
    whiteouts: opts.whiteouts ?? true,
    owner: opts.owner ?? 'keep',
    rename: opts.rename,
    noOverwriteDirNonDir: opts.noOverwriteDirNonDir ?? false,
    confineSymlinks: opts.confineSymlinks ?? false,
    onFileDigest: opts.onFileDigest,
  });
  try {
    let sliceStart = performance.now();
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const entry = await reader.next();
      if (entry === null) break;
      await ex.apply(entry, reader);
      if (performance.now() - sliceStart > SLICE_MS) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
    }
    await reader.drain();
    await ex.finish();
    return { size: ex.size, entries: ex.entries };
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    ex.cleanup();
    reader.close();
  }
}

class Extractor {
  readonly #root: string; // binary string
  readonly #rootText: string; // the same path as a JS string, for tool arguments
  readonly #isRoot: boolean;
  readonly #allowDevices: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #whiteouts: boolean;
  readonly #owner: 'keep' | 'none' | { readonly uid: number; readonly gid: number };
  readonly #rename: ((name: string) => string) | undefined;
  readonly #noOverwriteDirNonDir: boolean;
  readonly #confineSymlinks: boolean;
  readonly #onFileDigest: ((fd: number, sha256: string) => void) | undefined;
  /**
   * Directories verified or created in this extraction ('' is the root). Invariant: every
   * ancestor of a cached path is cached too, and a cached path is a real directory on disk.
   * The value is the metadata of an explicit directory entry, applied at the end.
   */
  readonly #dirs = new Map<string, DirMeta | undefined>([['', undefined]]);
  /** Pending xattrs by relative path, applied in one batch (see #flushXattrs). */
  #xattrs = new Map<string, Map<string, Buffer>>();
  /** A char 0/0 node that whiteouts are hard-linked to (one mknod spawn per layer). */
  #whiteoutTemplate: string | undefined;
  #whiteoutLinks = 0;
  /**
   * The owner every node we create gets, when it is certain: the effective uid/gid, provided the
   * root is not set-gid and has our gid (then neither set-gid inheritance nor `grpid` mounts can
   * give a new node another group: every directory below is made by us, and explicit directory
   * modes are only applied at the end).
   */
  readonly #newOwner: readonly [number, number] | undefined;
  size = 0;
  entries = 0;

  constructor(
    root: string,
    rootStat: fs.Stats,
    o: {
      isRoot: boolean;
      allowDevices: boolean;
      signal: AbortSignal | undefined;
      whiteouts: boolean;
      owner: 'keep' | 'none' | { readonly uid: number; readonly gid: number };
      rename: ((name: string) => string) | undefined;
      noOverwriteDirNonDir: boolean;
      confineSymlinks: boolean;
      onFileDigest: ((fd: number, sha256: string) => void) | undefined;
    },
  ) {
    this.#confineSymlinks = o.confineSymlinks;
    this.#onFileDigest = o.onFileDigest;
    this.#whiteouts = o.whiteouts;
    this.#owner = o.owner;
    this.#rename = o.rename;
    this.#noOverwriteDirNonDir = o.noOverwriteDirNonDir;
    const egid = process.getegid?.();
    const euid = process.geteuid?.();
    this.#newOwner =
      euid !== undefined && egid !== undefined && (rootStat.mode & 0o2000) === 0 && rootStat.gid === egid
        ? [euid, egid]
        : undefined;
    this.#rootText = root;
    this.#root = Buffer.from(root, 'utf8').toString('latin1');
    this.#isRoot = o.isRoot;
    this.#allowDevices = o.allowDevices;
    this.#signal = o.signal;
  }

  #abs(rel: string): Buffer {
    return nameToBytes(rel === '' ? this.#root : `${this.#root}/${rel}`);
  }

  async apply(raw: TarEntry, reader: TarReader): Promise<void> {
    const rename = this.#rename;
    const e = rename
      ? {
          ...raw,
          name: rename(raw.name),
          linkname: raw.kind === 'hardlink' ? rename(raw.linkname) : raw.linkname,
        }
      : raw;
    try {
      await this.#apply(this.#owned(e), reader);
    } catch (err) {
      throw wrapFsError(err, e.name);
    }
  }

  async #apply(e: TarEntry, reader: TarReader): Promise<void> {
    const rel = cleanEntryPath(e.name, e.name);
    if (rel === '') {
      // The layer root (`./`): dest is ours, its metadata stays as the snapshotter made it.
      if (e.kind !== 'directory') throw refuseEntry(e.name, 'the layer root can only be a directory');
      return;
    }
    this.entries++;
    const base = baseOf(rel);
    if (this.#whiteouts && base.startsWith(WHITEOUT_PREFIX)) return this.#whiteout(e, rel, base);
    this.#ensureDir(parentOf(rel), e.name);
    switch (e.kind) {
      case 'file':
        return this.#file(e, rel, reader);
      case 'directory':
        return this.#directory(e, rel);
      case 'symlink':
        return this.#symlink(e, rel);
      case 'hardlink':
        return this.#hardlink(e, rel);
      case 'char':
      case 'block':
      case 'fifo':
        return this.#node(e, rel);
    }
  }

  /**
   * Makes sure `rel` is a real directory, creating missing components (mode 0755, as Docker
   * does). A component that is a symlink or not a directory fails the entry.
   */
  #ensureDir(rel: string, entryName: string): void {
    if (this.#dirs.has(rel)) return;
    let cur = '';
    for (const part of rel.split('/')) {
      cur = cur === '' ? part : `${cur}/${part}`;
      if (this.#dirs.has(cur)) continue;
      const p = this.#abs(cur);
      // mkdir never follows an existing final component: EEXIST, then look at what is there.
      const st = tryMkdir(p, 0o755) ? undefined : fs.lstatSync(p);
      if (st === undefined) {
        // created
      } else if (st.isSymbolicLink()) {
        throw refuseEntry(
          entryName,
          `parent ${JSON.stringify(displayName(cur))} is a symlink; refusing to write through it`,
        );
      } else if (!st.isDirectory()) {
        throw refuseEntry(entryName, `parent ${JSON.stringify(displayName(cur))} is not a directory`);
      }
      this.#dirs.set(cur, undefined);
    }
  }

  /**
   * Removes whatever is at `rel` (never following it) so a new entry can take its place, as tar
   * does. A directory is removed recursively unless `keepDir`. Returns true if a directory was
   * kept.
   */
  async #clear(rel: string, keepDir: boolean): Promise<boolean> {
    const p = this.#abs(rel);
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (st === undefined) return false;
    if (keepDir && st.isDirectory()) return true;
    if (this.#noOverwriteDirNonDir && (st.isDirectory() || keepDir)) {
      const what = st.isDirectory()
        ? 'cannot overwrite directory %s with non-directory'
        : 'cannot overwrite non-directory %s with directory';
      throw new InvalidArgumentError('CP_DIR_NON_DIR', what.replace('%s', JSON.stringify(displayName(rel))));
    }
    // Pending xattrs may name this path or paths below it: apply them while they are valid.
    await this.#flushXattrs();
    if (st.isDirectory()) {
      removeTree(p);
      this.#forgetDirs(rel);
    } else {
      fs.unlinkSync(p);
    }
    return false;
  }

  #forgetDirs(rel: string): void {
    const prefix = `${rel}/`;
    for (const k of this.#dirs.keys()) {
      if (k === rel || k.startsWith(prefix)) this.#dirs.delete(k);
    }
  }

  /** Runs `create`; if the path exists, clears it and runs `create` once more. */
  async #create<T>(rel: string, create: () => T): Promise<T> {
    try {
      return create();
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
    await this.#clear(rel, false);
    return create();
  }

  /**
   * Whether a node we just created needs a chown: only as root, and not when it already has the
   * owner a new node gets (see #newOwner).
   */
  #needsChown(e: TarEntry): boolean {
    return (
      this.#isRoot &&
      this.#owner !== 'none' &&
      (this.#newOwner === undefined || e.uid !== this.#newOwner[0] || e.gid !== this.#newOwner[1])
    );
  }

  /** The entry with the owner it gets (see ApplyLayerOptions.owner). */
  #owned(e: TarEntry): TarEntry {
    const o = this.#owner;
    return typeof o === 'object' ? { ...e, uid: o.uid, gid: o.gid } : e;
  }

  #chown(p: Buffer, e: TarEntry): void {
    if (this.#needsChown(e)) fs.lchownSync(p, e.uid, e.gid);
  }

  async #file(e: TarEntry, rel: string, reader: TarReader): Promise<void> {
    const p = this.#abs(rel);
    let fd: number;
    try {
      fd = fs.openSync(p, CREATE_FLAGS, 0o600);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
      await this.#clear(rel, false);
      fd = fs.openSync(p, CREATE_FLAGS, 0o600);
    }
    const hash = this.#onFileDigest ? createHash('sha256') : undefined;
    try {
      if (e.size <= SMALL_FILE) {
        const data = reader.bufferedContent() ?? (await reader.readContent());
        hash?.update(data);
        let off = 0;
        while (off < data.length) off += fs.writeSync(fd, data, off);
      } else {
        await this.#writeLarge(fd, reader, hash);
      }
      if (this.#needsChown(e)) fs.fchownSync(fd, e.uid, e.gid);
      // After chown, which clears set-id bits.
      fs.fchmodSync(fd, e.mode);
      fs.futimesSync(fd, e.atime, e.mtime);
      if (hash) this.#onFileDigest?.(fd, hash.digest('hex'));
    } finally {
      fs.closeSync(fd);
    }
    this.size += e.size;
    this.#recordXattrs(rel, e, false);
  }

  /**
   * Streams a large file's content with positional writes kept in flight (bounded), so reading
   * the input and writing to disk overlap in the thread pool and the event loop never blocks.
   */
  async #writeLarge(fd: number, reader: TarReader, hash: Hash | undefined): Promise<void> {
    const inflight: { readonly done: Promise<void>; readonly bytes: number }[] = [];
    let inflightBytes = 0;
    let position = 0;
    let failure: unknown;
    const noteFailure = (err: unknown): void => {
      failure ??= err;
    };
    try {
      for await (const batch of reader.contentBatches(WRITE_BATCH, 1024)) {
        if (failure !== undefined) throw failure;
        this.#signal?.throwIfAborted();
        let bytes = 0;
        for (const b of batch) {
          bytes += b.length;
          hash?.update(b);
        }
        const done = writevAll(fd, batch, position);
        done.catch(noteFailure);
        inflight.push({ done, bytes });
        inflightBytes += bytes;
        position += bytes;
        while (inflightBytes > MAX_INFLIGHT_WRITES) {
          const oldest = inflight.shift()!;
          await oldest.done;
          inflightBytes -= oldest.bytes;
        }
      }
    } finally {
      // Never close the fd under a pending write.
      await Promise.allSettled(inflight.map((w) => w.done));
    }
    if (failure !== undefined) throw failure;
  }

  async #directory(e: TarEntry, rel: string): Promise<void> {
    const p = this.#abs(rel);
    if (!tryMkdir(p, 0o700) && !(await this.#clear(rel, true))) fs.mkdirSync(p, 0o700);
    this.#dirs.set(rel, { mode: e.mode, uid: e.uid, gid: e.gid, atime: e.atime, mtime: e.mtime });
    this.#recordXattrs(rel, e, false);
  }

  async #symlink(e: TarEntry, rel: string): Promise<void> {
    if (e.linkname === '') throw refuseEntry(e.name, 'symlink has an empty target');
    if (e.linkname.includes('\0')) throw refuseEntry(e.name, 'symlink target contains a NUL byte');
    if (this.#confineSymlinks && !e.linkname.startsWith('/') && climbsOut(parentOf(rel), e.linkname)) {
      throw refuseEntry(
        e.name,
        `symlink target ${JSON.stringify(displayName(e.linkname))} points outside the root`,
      );
    }
    const p = this.#abs(rel);
    // The target is stored as is: we never follow symlinks, so where it points is harmless here.
    await this.#create(rel, () => fs.symlinkSync(nameToBytes(e.linkname), p));
    this.#chown(p, e);
    fs.lutimesSync(p, e.atime, e.mtime);
    this.#recordXattrs(rel, e, true);
  }

  async #hardlink(e: TarEntry, rel: string): Promise<void> {
    const target = cleanEntryPath(e.linkname, e.name, 'hard link target');
    if (target === '') throw refuseEntry(e.name, 'hard link target is the layer root');
    const targetParent = parentOf(target);
    if (!this.#dirs.has(targetParent)) {
      // Verify without creating anything: the target must already exist inside the tree.
      this.#checkExistingDir(targetParent, e.name);
    }
    const tp = this.#abs(target);
    const tst = fs.lstatSync(tp, { throwIfNoEntry: false });
    if (tst === undefined) throw refuseEntry(e.name, 'hard link target does not exist in the layer');
    if (tst.isDirectory()) throw refuseEntry(e.name, 'hard link target is a directory');
    if (target === rel) return; // a link to itself: already there
    const p = this.#abs(rel);
    // link(2) does not follow a symlink target on Linux: linking to a symlink links the symlink.
    await this.#create(rel, () => fs.linkSync(tp, p));
    this.#recordXattrs(rel, e, tst.isSymbolicLink());
  }

  /** Like #ensureDir but only verifies: every component must exist and be a real directory. */
  #checkExistingDir(rel: string, entryName: string): void {
    let cur = '';
    for (const part of rel.split('/')) {
      cur = cur === '' ? part : `${cur}/${part}`;
      if (this.#dirs.has(cur)) continue;
      const st = fs.lstatSync(this.#abs(cur), { throwIfNoEntry: false });
      if (st === undefined) throw refuseEntry(entryName, 'hard link target does not exist in the layer');
      if (st.isSymbolicLink()) throw refuseEntry(entryName, 'hard link target passes through a symlink');
      if (!st.isDirectory()) throw refuseEntry(entryName, 'hard link target passes through a non-directory');
      this.#dirs.set(cur, undefined);
    }
  }

  async #node(e: TarEntry, rel: string): Promise<void> {
    if (e.kind !== 'fifo' && !this.#allowDevices) {
      throw refuseEntry(e.name, `${e.kind === 'char' ? 'character' : 'block'} device nodes are not allowed`);
    }
    const args =
      e.kind === 'fifo' ? ['p'] : [e.kind === 'char' ? 'c' : 'b', String(e.devmajor), String(e.devminor)];
    const tmp = await this.#mknodTemp(e.mode, args);
    const p = this.#abs(rel);
    try {
      // rename(2) replaces a non-directory and never follows the destination.
      await this.#create(rel, () => {
        if (fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined) {
          throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        }
        fs.renameSync(nameToBytes(tmp), p);
      });
    } finally {
      fs.rmSync(nameToBytes(tmp), { force: true });
    }
    if (this.#isRoot && this.#owner !== 'none') {
      fs.lchownSync(p, e.uid, e.gid);
      // chown clears set-id bits; p is the node we just placed (not a symlink).
      fs.chmodSync(p, e.mode);
    }
    fs.lutimesSync(p, e.atime, e.mtime);
    this.#recordXattrs(rel, e, false);
  }

  /**
   * Creates a node with mknod(1) under a temporary name in the layer root (Node has no mknod),
   * to be renamed into place: names with any bytes work that way, and no tool ever resolves a
   * path the archive chose.
   */
  async #mknodTemp(mode: number, args: string[]): Promise<string> {
    const name = `${TEMP_PREFIX}mknod-${randomBytes(16).toString('hex')}`;
    const r = await runTool(
      'mknod',
      ['-m', (mode & 0o7777).toString(8), '--', path.join(this.#rootText, name), ...args],
      undefined,
      this.#signal,
    );
    if (r.code !== 0)
      throw new InternalError('LAYER_MKNOD_FAILED', `mknod failed: ${r.stderr || `exit ${r.code}`}`);
    return `${this.#root}/${name}`;
  }

  async #whiteout(e: TarEntry, rel: string, base: string): Promise<void> {
    const parent = parentOf(rel);
    this.#ensureDir(parent, e.name);
    if (base === WHITEOUT_OPAQUE) {
      // Opaque directory: hides everything below it in lower layers.
      this.#addXattr(parent, OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
    if (base.startsWith(WHITEOUT_META_PREFIX)) return; // other aufs metadata (.wh..wh.plnk ...)
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') {
      throw refuseEntry(e.name, 'whiteout names no file');
    }
    const target = parent === '' ? hidden : `${parent}/${hidden}`;
    const p = this.#abs(target);
    const template = await this.#whiteoutNode();
    await this.#create(target, () => fs.linkSync(template, p));
    this.#whiteoutLinks++;
  }

  /**
   * overlayfs whiteouts are char 0/0 nodes. They are all alike (overlayfs ignores their owner,
   * mode and times, and links them itself), so one node is made per layer and each whiteout is
   * a hard link to it: one process spawn per layer instead of one per whiteout.
   */
  async #whiteoutNode(): Promise<Buffer> {
    // ext4 caps an inode at 65000 links: start a new template well before.
    if (this.#whiteoutTemplate === undefined || this.#whiteoutLinks >= 60000) {
      this.#dropWhiteoutTemplate();
      const tmp = await this.#mknodTemp(0, ['c', '0', '0']);
      fs.lutimesSync(nameToBytes(tmp), 0, 0);
      this.#whiteoutTemplate = tmp;
      this.#whiteoutLinks = 0;
    }
    return nameToBytes(this.#whiteoutTemplate);
  }

  #dropWhiteoutTemplate(): void {
    if (this.#whiteoutTemplate !== undefined) {
      fs.rmSync(nameToBytes(this.#whiteoutTemplate), { force: true });
      this.#whiteoutTemplate = undefined;
    }
  }

  #recordXattrs(rel: string, e: TarEntry, isSymlink: boolean): void {
    if (e.xattrs.size === 0) return;
    for (const [name, value] of e.xattrs) {
      // overlayfs reads its own xattrs (opaque, redirect, metacopy ...) from lower layers: a
      // layer must not forge them. Whiteouts and opaque dirs come only from .wh. entries.
      if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) continue;
      // The kernel refuses user.* xattrs on symlinks (Docker ignores that error too).
      if (isSymlink && name.startsWith('user.')) continue;
      if (!isValidXattrName(name)) throw refuseEntry(e.name, `invalid xattr name ${JSON.stringify(name)}`);
      this.#addXattr(rel, name, value);
    }
  }

  #addXattr(rel: string, name: string, value: Buffer): void {
    let m = this.#xattrs.get(rel);
    if (m === undefined) {
      m = new Map();
      this.#xattrs.set(rel, m);
    }
    m.set(name, value);
  }

  /**
   * Applies pending xattrs. Called before any removal and at the end, so every pending path is
   * still what it was when recorded and its parents are still cached real directories.
   * setfattr runs after the files are written and chowned (either would clear
   * security.capability).
   */
  async #flushXattrs(): Promise<void> {
    if (this.#xattrs.size === 0) return;
    const batch: XattrBatch = new Map();
    for (const [rel, attrs] of this.#xattrs)
      batch.set(rel === '' ? this.#root : `${this.#root}/${rel}`, attrs);
    this.#xattrs = new Map();
    await applyXattrs(batch, this.#signal);
  }

  /** Deferred work: xattrs, then directory owner/mode/times, deepest first. */
  async finish(): Promise<void> {
    this.#dropWhiteoutTemplate();
    await this.#flushXattrs();
    const dirs: [string, DirMeta][] = [];
    for (const [rel, meta] of this.#dirs) if (meta !== undefined) dirs.push([rel, meta]);
    dirs.sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, meta] of dirs) {
      const p = this.#abs(rel);
      try {
        if (this.#isRoot && this.#owner !== 'none') fs.lchownSync(p, meta.uid, meta.gid);
        // chmod follows symlinks, but p is a cached, verified real directory.
        fs.chmodSync(p, meta.mode);
        fs.lutimesSync(p, meta.atime, meta.mtime);
      } catch (err) {
        throw wrapFsError(err, rel);
      }
    }
  }

  /** Best effort on any exit: no temporary node may stay in the layer. */
  cleanup(): void {
    try {
      this.#dropWhiteoutTemplate();
    } catch {
      // the caller removes dest after a failure anyway
    }
  }
}
