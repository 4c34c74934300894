// Directory → deterministic tar, the inverse of apply.ts: overlayfs whiteouts (char 0/0) become
// `.wh.<name>` entries and opaque directories get a `.wh..wh..opq` entry, as Docker's overlay2
// driver writes layer diffs.
//
// Deterministic: entries sorted bytewise per directory (a directory before its children),
// mtimes in whole seconds, no atime/ctime, empty user/group names, fixed PAX header names.
// The same tree always gives the same bytes, so the same diff ID.

import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { InternalError, InvalidArgumentError } from '../errdefs/index.ts';
import {
  BLOCK_SIZE,
  bytesToName,
  encodeHeader,
  encodePaxRecords,
  nameToBytes,
  octalFits,
  padded,
  TypeFlag,
} from './tar-format.ts';
import { readXattrsRecursive, type XattrBatch } from './xattr.ts';

export interface PackOptions {
  readonly signal?: AbortSignal;
  /**
   * Leaves out a path (relative, a binary string as in tar-format.ts) and what is below it
   * (`true`), or only the entry itself while a directory's children are still visited
   * (`'contents'`: a .dockerignore'd directory that holds an exception; a non-directory is
   * left out).
   */
  readonly skip?: (rel: string) => boolean | 'contents';
  /** Every entry gets this owner instead of the file's (docker build contexts are 0:0). */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Regular files appended after the tree; their names are archive paths, not on disk. */
  readonly extraFiles?: readonly ExtraFile[];
}

export interface ExtraFile {
  readonly name: string;
  readonly content: Buffer;
  readonly mode: number;
  /** Seconds since the epoch (default: now). */
  readonly mtime?: number;
  /** Owner ids (default 0). */
  readonly uid?: number;
  readonly gid?: number;
}

const OPAQUE_XATTR = 'trusted.overlay.opaque';
const CAPABILITY_XATTR = 'security.capability';
const XATTR_PATTERN = '^(trusted\\.overlay\\.opaque|security\\.capability)$';
const READ_CHUNK = 1 << 20;
/** Files up to this size are read with synchronous calls in one go. */
const SMALL_SYNC = 256 << 10;
const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK_SIZE);

interface EntryFields {
  readonly name: string;
  readonly typeflag: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly xattrs?: ReadonlyMap<string, Buffer>;
}

/** Header block(s) for one entry: a PAX header first when a field does not fit ustar. */
function headerBlocks(f: EntryFields): Buffer {
  const records: [string, Buffer][] = [];
  const nameBytes = nameToBytes(f.name);
  if (nameBytes.length > 100) records.push(['path', nameBytes]);
  if (f.linkname !== undefined && nameToBytes(f.linkname).length > 100) {
    records.push(['linkpath', nameToBytes(f.linkname)]);
  }
  const big = (key: string, v: number, len: number): number => {
    if (octalFits(v, len)) return v;
    records.push([key, Buffer.from(String(v))]);
    return 0;
  };
  const uid = big('uid', f.uid, 8);
  const gid = big('gid', f.gid, 8);
  const size = big('size', f.size, 12);
  const mtime = big('mtime', f.mtime, 12);
  for (const [k, v] of [...(f.xattrs ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    records.push([`SCHILY.xattr.${k}`, v]);
  }
  const header = encodeHeader({
    name: nameBytes.length > 100 ? truncate(f.name, 100) : f.name,
    mode: f.mode,
    uid,
    gid,
    size,
    mtime,
    typeflag: f.typeflag,
    ...(f.linkname !== undefined ? { linkname: truncate(f.linkname, 100) } : {}),
    ...(f.devmajor !== undefined ? { devmajor: f.devmajor } : {}),
    ...(f.devminor !== undefined ? { devminor: f.devminor } : {}),
  });
  if (records.length === 0) return header;
  const pax = encodePaxRecords(records);
  const base = f.name.replace(/\/$/, '').split('/').pop() ?? '';
  const paxHeader = encodeHeader({
    name: truncate(`PaxHeaders.0/${base}`, 100),
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: pax.length,
    mtime: 0,
    typeflag: TypeFlag.paxLocal,
  });
  return Buffer.concat([paxHeader, pax, Buffer.alloc(padded(pax.length) - pax.length), header]);
}

function truncate(name: string, bytes: number): string {
  return name.length > bytes ? name.slice(0, bytes) : name;
}

function seconds(ns: bigint): number {
  // floor, also for times before 1970
  const s = ns / 1_000_000_000n;
  return Number(ns < 0n && s * 1_000_000_000n !== ns ? s - 1n : s);
}

function devMajor(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}

function devMinor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

class Packer {
  readonly #root: string; // binary string
  readonly #signal: AbortSignal | undefined;
  #xattrs: XattrBatch = new Map();
  /** "dev:ino" → name of the first entry for that inode, for hard links. */
  readonly #links = new Map<string, string>();
  /**
   * Open fds of the directories being walked, by relative path. Entries are reached through
   * their parent's fd (`/proc/self/fd/N/name`, i.e. openat) and directories are opened with
   * O_NOFOLLOW, so a directory swapped for a symlink mid-walk (a container that was not paused)
   * cannot lead the walk to a host path.
   */
  readonly #dirFds = new Map<string, number>();

  /** Output name of an entry (cp rebasing); identity for layers. */
  readonly #rename: ((name: string) => string) | undefined;

  readonly #skip: ((rel: string) => boolean | 'contents') | undefined;
  readonly #owner: { readonly uid: number; readonly gid: number } | undefined;
  readonly #extra: readonly ExtraFile[];

  constructor(
    root: string,
    signal: AbortSignal | undefined,
    rename?: (name: string) => string,
    opts: Pick<PackOptions, 'skip' | 'owner' | 'extraFiles'> = {},
  ) {
    this.#skip = opts.skip;
    this.#owner = opts.owner;
    this.#extra = opts.extraFiles ?? [];
    this.#root = Buffer.from(root, 'utf8').toString('latin1');
    this.#signal = signal;
    this.#rename = rename;
  }

  #hdr(f: EntryFields): Buffer {
    const r = this.#rename;
    if (r === undefined) return headerBlocks(f);
    return headerBlocks({
      ...f,
      name: r(f.name),
      ...(f.typeflag === TypeFlag.hardlink && f.linkname !== undefined ? { linkname: r(f.linkname) } : {}),
    });
  }

  /** One path below the root (a file, a symlink or a whole tree), for `cp`. */
  async *runOne(base: string): AsyncGenerator<Buffer> {
    const full = `${this.#root}/${base}`;
    const st = await fsp.lstat(nameToBytes(full), { bigint: true });
    if (st.isDirectory()) {
      const text = nameToBytes(full).toString('utf8');
      for (const [rel, attrs] of await readXattrsRecursive(text, XATTR_PATTERN, this.#signal)) {
        this.#xattrs.set(rel === '' ? base : `${base}/${rel}`, attrs);
      }
    }
    const rootFd = this.#openDir('');
    this.#dirFds.set('', rootFd);
    try {
      yield* this.#entry(base, base);
    } finally {
      this.#dirFds.delete('');
      fs.closeSync(rootFd);
    }
    yield END_OF_ARCHIVE;
  }

  async *run(rootText: string): AsyncGenerator<Buffer> {
    const st = await fsp.lstat(rootText, { bigint: true });
    if (!st.isDirectory()) {
      throw new InvalidArgumentError(
        'PACK_NOT_A_DIRECTORY',
        `${JSON.stringify(rootText)} is not a directory`,
      );
    }
    this.#xattrs = await readXattrsRecursive(rootText, XATTR_PATTERN, this.#signal);
    // An opaque root (the diff of a container whose root was replaced) has no entry of its own
    // to carry the marker: put it at the top.
    if (this.#isOpaque('')) yield this.#opaqueEntry('', st);
    yield* this.#dir('');
    const now = Math.floor(Date.now() / 1000);
    for (const f of this.#extra) {
      const header = this.#hdr({
        name: f.name,
        typeflag: TypeFlag.file,
        mode: f.mode,
        uid: this.#owner?.uid ?? 0,
        gid: this.#owner?.gid ?? 0,
        size: f.content.length,
        mtime: f.mtime ?? now,
      });
      yield Buffer.concat([header, f.content, Buffer.alloc(padded(f.content.length) - f.content.length)]);
    }
    yield END_OF_ARCHIVE;
  }

  #abs(rel: string): Buffer {
    const slash = rel.lastIndexOf('/');
    const fd = this.#dirFds.get(slash === -1 ? '' : rel.slice(0, slash));
    if (rel !== '' && fd !== undefined) return nameToBytes(`/proc/self/fd/${fd}/${rel.slice(slash + 1)}`);
    return nameToBytes(rel === '' ? this.#root : `${this.#root}/${rel}`);
  }

  /** Opens directory `rel` for the walk (through its parent's fd, never following a link). */
  #openDir(rel: string): number {
    try {
      return fs.openSync(
        this.#abs(rel),
        fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | (rel === '' ? 0 : fs.constants.O_NOFOLLOW),
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') throw changed(rel);
      throw err;
    }
  }

  #isOpaque(rel: string): boolean {
    return this.#xattrs.get(rel)?.get(OPAQUE_XATTR)?.toString('latin1') === 'y';
  }

  #opaqueEntry(rel: string, st: fs.BigIntStats): Buffer {
    return this.#hdr({
      name: rel === '' ? '.wh..wh..opq' : `${rel}/.wh..wh..opq`,
      typeflag: TypeFlag.file,
      mode: Number(st.mode) & 0o777,
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: 0,
      mtime: seconds(st.mtimeNs),
    });
  }

  async *#dir(rel: string): AsyncGenerator<Buffer> {
    const fd = this.#openDir(rel);
    this.#dirFds.set(rel, fd);
    try {
      const names = (await fsp.readdir(`/proc/self/fd/${fd}`, { encoding: 'buffer' })).map(bytesToName);
      // Binary strings compare char by char, i.e. bytewise: the order of the raw names.
      names.sort();
      for (const name of names) {
        this.#signal?.throwIfAborted();
        const childRel = rel === '' ? name : `${rel}/${name}`;
        const verdict = this.#skip?.(childRel) ?? false;
        if (verdict === true) continue;
        yield* this.#entry(childRel, name, verdict === 'contents');
      }
    } finally {
      this.#dirFds.delete(rel);
      fs.closeSync(fd);
    }
  }

  async *#entry(rel: string, name: string, contentsOnly = false): AsyncGenerator<Buffer> {
    const p = this.#abs(rel);
    // Synchronous metadata calls: microseconds each, where a thread-pool round trip per call
    // made small-file trees ~10× slower than tar (measured by scripts/bench-cp.ts).
    const st = fs.lstatSync(p, { bigint: true });
    if (contentsOnly) {
      if (st.isDirectory()) yield* this.#dir(rel);
      return;
    }
    const common = {
      mode: Number(st.mode) & 0o7777,
      uid: this.#owner?.uid ?? Number(st.uid),
      gid: this.#owner?.gid ?? Number(st.gid),
      mtime: seconds(st.mtimeNs),
    };
    if (st.isDirectory()) {
      yield this.#hdr({ ...common, name: `${rel}/`, typeflag: TypeFlag.directory, size: 0 });
      if (this.#isOpaque(rel)) yield this.#opaqueEntry(rel, st);
      yield* this.#dir(rel);
      return;
    }
    if (st.isCharacterDevice() && st.rdev === 0n) {
      // overlayfs whiteout → OCI whiteout file (Docker writes these as empty 0600 files)
      const parent = rel.slice(0, rel.length - name.length);
      yield this.#hdr({
        ...common,
        mode: 0o600,
        name: `${parent}.wh.${name}`,
        typeflag: TypeFlag.file,
        size: 0,
      });
      return;
    }
    if (st.isSocket()) return; // tar cannot hold sockets; GNU tar skips them too
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.#links.get(key);
      if (first !== undefined) {
        yield this.#hdr({ ...common, name: rel, typeflag: TypeFlag.hardlink, size: 0, linkname: first });
        return;
      }
      this.#links.set(key, rel);
    }
    if (st.isSymbolicLink()) {
      const target = bytesToName(await fsp.readlink(p, { encoding: 'buffer' }));
      yield this.#hdr({ ...common, name: rel, typeflag: TypeFlag.symlink, size: 0, linkname: target });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      yield this.#hdr({
        ...common,
        name: rel,
        typeflag: st.isCharacterDevice() ? TypeFlag.char : TypeFlag.block,
        size: 0,
        devmajor: devMajor(st.rdev),
        devminor: devMinor(st.rdev),
      });
    } else if (st.isFIFO()) {
      yield this.#hdr({ ...common, name: rel, typeflag: TypeFlag.fifo, size: 0 });
    } else if (st.isFile()) {
      yield* this.#file(rel, p, st, common);
    }
  }

  #smallFile(
    rel: string,
    p: Buffer,
    st: fs.BigIntStats,
    common: { mode: number; uid: number; gid: number; mtime: number },
  ): Buffer | undefined {
    // O_NONBLOCK: a running container may have swapped the file for a FIFO since the walk saw
    // it; a blocking open would then hang the event loop. The fstat check below catches it.
    const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      const cap = this.#xattrs.get(rel)?.get(CAPABILITY_XATTR);
      return smallFileBlocks(fd, rel, st, (size) =>
        this.#hdr({
          ...common,
          name: rel,
          typeflag: TypeFlag.file,
          size,
          ...(cap ? { xattrs: new Map([[CAPABILITY_XATTR, cap]]) } : {}),
        }),
      );
    } finally {
      fs.closeSync(fd);
    }
  }

  async *#file(
    rel: string,
    p: Buffer,
    st: fs.BigIntStats,
    common: { mode: number; uid: number; gid: number; mtime: number },
  ): AsyncGenerator<Buffer> {
    if (st.size <= BigInt(SMALL_SYNC)) {
      const small = this.#smallFile(rel, p, st, common);
      if (small !== undefined) {
        yield small;
        return;
      }
    }
    const fh = await fsp.open(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      const now = await fh.stat({ bigint: true });
      if (now.ino !== st.ino || !now.isFile()) throw changed(rel);
      const size = Number(now.size);
      const cap = this.#xattrs.get(rel)?.get(CAPABILITY_XATTR);
      const header = this.#hdr({
        ...common,
        name: rel,
        typeflag: TypeFlag.file,
        size,
        ...(cap ? { xattrs: new Map([[CAPABILITY_XATTR, cap]]) } : {}),
      });
      const pad = padded(size) - size;
      if (size <= READ_CHUNK) {
        // header, content and padding in one buffer: one chunk per small file
        const out = Buffer.alloc(header.length + size + pad);
        header.copy(out);
        await readExactly(fh, out, header.length, size, 0, rel);
        yield out;
        return;
      }
      yield header;
      for (let pos = 0; pos < size; pos += READ_CHUNK) {
        this.#signal?.throwIfAborted();
        const n = Math.min(READ_CHUNK, size - pos);
        const buf = Buffer.allocUnsafe(n);
        await readExactly(fh, buf, 0, n, pos, rel);
        yield buf;
      }
      if (pad > 0) yield Buffer.alloc(pad);
    } finally {
      await fh.close();
    }
  }
}

/**
 * Header, content and padding of a small file in one buffer, read synchronously; undefined when
 * the file grew past the small-file size meanwhile (the async path takes it).
 */
function smallFileBlocks(
  fd: number,
  rel: string,
  st: fs.BigIntStats,
  header: (size: number) => Buffer,
): Buffer | undefined {
  const now = fs.fstatSync(fd, { bigint: true });
  if (now.ino !== st.ino || !now.isFile()) throw changed(rel);
  const size = Number(now.size);
  if (size > SMALL_SYNC) return undefined;
  const h = header(size);
  const out = Buffer.alloc(h.length + padded(size));
  h.copy(out);
  let done = 0;
  while (done < size) {
    const n = fs.readSync(fd, out, h.length + done, size - done, done);
    if (n === 0) throw changed(rel);
    done += n;
  }
  return out;
}

async function readExactly(
  fh: fsp.FileHandle,
  buf: Buffer,
  offset: number,
  length: number,
  position: number,
  rel: string,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, offset + done, length - done, position + done);
    if (bytesRead === 0) throw changed(rel);
    done += bytesRead;
  }
}

function changed(rel: string): InternalError {
  return new InternalError(
    'PACK_FILE_CHANGED',
    `${JSON.stringify(nameToBytes(rel).toString('utf8'))} changed while it was being packed`,
  );
}

/**
 * A deterministic tar of `dir` (see the file comment). Reads lazily as the stream is consumed.
 * Needs `getfattr` (package `attr`) to find opaque directories and file capabilities.
 */
export function packDirectory(dir: string, opts: PackOptions = {}): Readable {
  const root = path.resolve(dir);
  return Readable.from(new Packer(root, opts.signal, undefined, opts).run(root), { objectMode: false });
}

/**
 * Docker's rebasing of `cp` archive names: `from` (and everything below it) becomes `to`; `/`
 * as `to` stands for the root, so `merged/bin` → `/bin`.
 */
export function rebaseName(name: string, from: string, to: string): string {
  if (name !== from && !name.startsWith(`${from}/`)) return name;
  return (to === '/' ? '' : to) + name.slice(from.length);
}

export interface PackPathOptions extends PackOptions {
  /** Name the top entry gets in the archive (default: `base` itself). */
  readonly rebase?: string;
}

/**
 * A tar of `dir/base` alone — a file, a symlink (never followed) or a directory tree — with the
 * entries named `base/...` or `rebase/...`. For `docker cp`; `base` is one path component.
 */
export function packPath(dir: string, base: string, opts: PackPathOptions = {}): Readable {
  const root = path.resolve(dir);
  const latinBase = Buffer.from(base, 'utf8').toString('latin1');
  const to = opts.rebase === undefined ? undefined : Buffer.from(opts.rebase, 'utf8').toString('latin1');
  const rename =
    to === undefined || to === latinBase ? undefined : (n: string) => rebaseName(n, latinBase, to);
  return Readable.from(new Packer(root, opts.signal, rename).runOne(latinBase), { objectMode: false });
}

/** One path packed by packPaths, as for packPath, with paths below it to leave out. */
export interface PackPart extends PackPathOptions {
  readonly dir: string;
  readonly base: string;
}

/**
 * One tar of several packPath trees in order (cp of a directory with mounts below it: the
 * rootfs's tree without the mount points, then each mount's source under its mount point).
 */
export function packPaths(parts: readonly PackPart[], signal?: AbortSignal): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    for (const p of parts) {
      const latinBase = Buffer.from(p.base, 'utf8').toString('latin1');
      const to = p.rebase === undefined ? undefined : Buffer.from(p.rebase, 'utf8').toString('latin1');
      const rename =
        to === undefined || to === latinBase ? undefined : (n: string) => rebaseName(n, latinBase, to);
      const packer = new Packer(path.resolve(p.dir), signal, rename, p.skip ? { skip: p.skip } : {});
      for await (const chunk of packer.runOne(latinBase)) if (chunk !== END_OF_ARCHIVE) yield chunk;
    }
    yield END_OF_ARCHIVE;
  }
  return Readable.from(all(), { objectMode: false });
}

/** A tar of the given regular files alone, in memory (e.g. a Dockerfile read from stdin). */
export function tarOfFiles(files: readonly ExtraFile[]): Buffer {
  const now = Math.floor(Date.now() / 1000);
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(
      headerBlocks({
        name: f.name,
        typeflag: TypeFlag.file,
        mode: f.mode,
        uid: f.uid ?? 0,
        gid: f.gid ?? 0,
        size: f.content.length,
        mtime: f.mtime ?? now,
      }),
      f.content,
      Buffer.alloc(padded(f.content.length) - f.content.length),
    );
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** One directory of a multi-tree archive (packTrees): its entries go below `prefix` ('' = top). */
export interface PackTree extends Omit<PackOptions, 'signal'> {
  readonly dir: string;
  /** Archive path the tree is put under, without a trailing slash; '' for the top. */
  readonly prefix: string;
}

/**
 * Several directories in one tar, each below its own prefix (a build context with its named
 * contexts). Directory entries are written for every prefix component so an extractor sees them
 * as ordinary directories; only the last tree's end-of-archive marker is kept.
 */
export function packTrees(trees: readonly PackTree[], signal?: AbortSignal): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    const made = new Set<string>();
    const now = Math.floor(Date.now() / 1000);
    for (const t of trees) {
      const prefix = Buffer.from(t.prefix, 'utf8').toString('latin1');
      const parts = prefix === '' ? [] : prefix.split('/');
      for (let i = 1; i <= parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (made.has(d)) continue;
        made.add(d);
        yield headerBlocks({
          name: `${d}/`,
          typeflag: TypeFlag.directory,
          mode: 0o755,
          uid: t.owner?.uid ?? 0,
          gid: t.owner?.gid ?? 0,
          size: 0,
          mtime: now,
        });
      }
      const rename = prefix === '' ? undefined : (n: string) => `${prefix}/${n}`;
      const root = path.resolve(t.dir);
      for await (const chunk of new Packer(root, signal, rename, t).run(root)) {
        if (chunk !== END_OF_ARCHIVE) yield chunk;
      }
    }
    yield END_OF_ARCHIVE;
  }
  return Readable.from(all(), { objectMode: false });
}
