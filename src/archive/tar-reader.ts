// A pull-based tar reader over a byte stream. Headers are parsed synchronously from buffered
// input (no stream object per entry, which keeps small-file layers fast); entry content is read
// either whole (small files) or as a sequence of slices of the input chunks (large files).
//
// Why not tar-stream: it decodes PAX values as UTF-8, which corrupts binary xattr values such
// as `security.capability`, and it turns non-UTF-8 names into U+FFFD. Both matter for layers.

import type { Readable } from 'node:stream';
import { InvalidArgumentError } from '../errdefs/index.ts';
import { refuseEntry } from './entry-path.ts';
import {
  BLOCK_SIZE,
  bytesToName,
  decodeHeader,
  padded,
  parsePaxRecords,
  type RawHeader,
  TarFormatError,
  TypeFlag,
} from './tar-format.ts';

export type EntryKind = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarEntry {
  readonly kind: EntryKind;
  /** Raw name as a binary string (see tar-format.ts), not yet cleaned. */
  readonly name: string;
  /** Symlink or hard link target, raw. */
  readonly linkname: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Content bytes that follow the header (0 for every kind but `file`). */
  readonly size: number;
  /** Seconds since the epoch, possibly fractional (PAX). */
  readonly mtime: number;
  readonly atime: number;
  readonly devmajor: number;
  readonly devminor: number;
  /** `SCHILY.xattr.<name>` PAX records: xattr name → raw value. */
  readonly xattrs: ReadonlyMap<string, Buffer>;
}

/** Cap on PAX and GNU long-name records, so a hostile header cannot make us buffer gigabytes. */
const MAX_META_SIZE = 1 << 20;
/**
 * Cap on what global PAX headers may hold in total. Each record is capped above, but globals
 * accumulate over the whole stream and are copied into every later entry: without a total, a
 * stream of global headers with fresh keys grows memory without bound and makes every entry
 * slower. Real archives carry one or two small globals (git archive's `comment`).
 */
const MAX_GLOBAL_SIZE = 64 << 10;
const MAX_GLOBAL_KEYS = 64;

const KIND_BY_FLAG = new Map<number, EntryKind>([
  [TypeFlag.file, 'file'],
  [TypeFlag.oldFile, 'file'],
  [TypeFlag.contiguous, 'file'],
  [TypeFlag.hardlink, 'hardlink'],
  [TypeFlag.symlink, 'symlink'],
  [TypeFlag.char, 'char'],
  [TypeFlag.block, 'block'],
  [TypeFlag.directory, 'directory'],
  [TypeFlag.fifo, 'fifo'],
]);

function invalidTar(detail: string, cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    'LAYER_INVALID_TAR',
    `layer is not a valid tar stream: ${detail}`,
    cause === undefined ? undefined : { cause },
  );
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw invalidTar('the input stream produced a non-byte chunk');
}

const EMPTY_BUFFER = Buffer.alloc(0);
const EMPTY: ReadonlyMap<string, Buffer> = new Map();

/** A PAX decimal value: an unsigned integer, or (for times) a signed decimal fraction. */
function paxNumber(records: ReadonlyMap<string, Buffer>, key: string, integer: boolean): number | undefined {
  const v = records.get(key);
  if (v === undefined) return undefined;
  let ok = v.length > 0 && v.length <= 40;
  let digits = 0;
  let dot = false;
  for (let i = 0; ok && i < v.length; i++) {
    const c = v[i]!;
    if (c >= 0x30 && c <= 0x39) digits++;
    else if (c === 0x2d && i === 0 && !integer) continue;
    else if (c === 0x2e && !dot && !integer && digits > 0) dot = true;
    else ok = false;
  }
  const n = ok && digits > 0 ? Number(v.toString('latin1')) : Number.NaN;
  if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) {
    throw invalidTar(`bad PAX ${key} value ${JSON.stringify(v.toString('latin1'))}`);
  }
  return n;
}

/**
 * How much input is read ahead of the parser. A stream only reads ahead up to its own high-water
 * mark (often one chunk); pulling more keeps the source busy while entries are being written.
 */
const READ_AHEAD = 4 << 20;

export class TarReader {
  readonly #input: Readable;
  readonly #it: AsyncIterator<unknown>;
  readonly #chunks: Buffer[] = [];
  #available = 0;
  /** The input has ended (or failed); nothing more will be buffered. */
  #eof = false;
  #error: unknown;
  #pumping = false;
  /** Bytes the consumer is waiting for, and its wake-up call. */
  #need = 0;
  #wake: (() => void) | undefined;
  #ended = false;
  /** Unread content of the current entry. */
  #contentLeft = 0;
  /** Unread padding after the current entry's content. */
  #paddingLeft = 0;
  #global = new Map<string, Buffer>();
  #globalBytes = 0;

  constructor(input: Readable) {
    this.#input = input;
    this.#it = input[Symbol.asyncIterator]();
  }

  /** Keeps up to READ_AHEAD bytes (or what the consumer needs) buffered, in the background. */
  #startPump(): void {
    if (this.#pumping || this.#eof) return;
    this.#pumping = true;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      while (!this.#eof && this.#available < Math.max(READ_AHEAD, this.#need)) {
        const r = await this.#it.next();
        if (r.done) {
          this.#eof = true;
        } else {
          const b = toBuffer(r.value);
          if (b.length > 0) {
            this.#chunks.push(b);
            this.#available += b.length;
          }
        }
        if (this.#available >= this.#need || this.#eof) this.#notify();
      }
    } catch (err) {
      this.#error = err;
      this.#eof = true;
      this.#notify();
    } finally {
      this.#pumping = false;
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Ensures `n` bytes are buffered; false when the input ends first. */
  async #fill(n: number): Promise<boolean> {
    while (this.#available < n) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#eof) return false;
      this.#need = n;
      this.#startPump();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    this.#need = 0;
    return true;
  }

  /** Takes exactly `n` buffered bytes (copying only when they span chunks). */
  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      this.#consumeFirst(first, n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      this.#consumeFirst(c, k);
      off += k;
    }
    return out;
  }

  /** Takes up to `n` bytes from the first buffered chunk without copying. */
  #takeSome(n: number): Buffer {
    const first = this.#chunks[0]!;
    const k = Math.min(first.length, n);
    this.#consumeFirst(first, k);
    return first.subarray(0, k);
  }

  #consumeFirst(first: Buffer, k: number): void {
    if (k === first.length) {
      this.#chunks.shift();
      if (this.#available - k < READ_AHEAD) this.#startPump();
    } else {
      this.#chunks[0] = first.subarray(k);
    }
    this.#available -= k;
  }

  #skipBuffered(n: number): void {
    while (n > 0) n -= this.#takeSome(n).length;
  }

  async #skip(n: number): Promise<void> {
    while (n > 0) {
      if (this.#available === 0 && !(await this.#fill(1))) throw invalidTar('unexpected end of data');
      n -= this.#takeSome(n).length;
    }
  }

  #setGlobal(k: string, v: Buffer): void {
    const old = this.#global.get(k);
    this.#globalBytes += k.length + v.length - (old === undefined ? 0 : k.length + old.length);
    this.#global.set(k, v);
    if (this.#globalBytes > MAX_GLOBAL_SIZE || this.#global.size > MAX_GLOBAL_KEYS) {
      throw invalidTar(
        `global PAX headers hold more than ${MAX_GLOBAL_KEYS} records or ${MAX_GLOBAL_SIZE} bytes in total`,
      );
    }
  }

  async #readRecord(h: RawHeader): Promise<Buffer> {
    if (h.size > MAX_META_SIZE) throw invalidTar(`extended header of ${h.size} bytes is too large`);
    const total = padded(h.size);
    if (this.#available < total && !(await this.#fill(total))) throw invalidTar('unexpected end of data');
    const data = this.#take(total);
    return data.subarray(0, h.size);
  }

  /**
   * The next entry, or null at the end of the archive. Unread content of the previous entry is
   * skipped. PAX (local and global) and GNU long-name records are folded into the entry.
   */
  async next(): Promise<TarEntry | null> {
    if (this.#ended) return null;
    const rest = this.#contentLeft + this.#paddingLeft;
    if (rest > 0) {
      if (this.#available >= rest) this.#skipBuffered(rest);
      else {
        if (this.#contentLeft > 0) await this.#skip(this.#contentLeft);
        this.#contentLeft = 0;
        // Input that ends right after the last entry's content, with no padding and no zero
        // blocks, is a complete archive for Go's reader (its padding read returns io.EOF); the
        // docker CLI sends such contexts when it adds a Dockerfile from outside the context.
        if (this.#available === 0 && !(await this.#fill(1))) {
          this.#paddingLeft = 0;
          this.#ended = true;
          return null;
        }
        await this.#skip(this.#paddingLeft);
      }
    }
    this.#contentLeft = 0;
    this.#paddingLeft = 0;
    let local: Map<string, Buffer> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      if (this.#available < BLOCK_SIZE && !(await this.#fill(BLOCK_SIZE))) {
        // End of input without the zero blocks: accepted at an entry boundary, like Go's reader
        // accepts io.EOF there; anything else is a truncated archive.
        if (
          this.#available === 0 &&
          local === undefined &&
          longName === undefined &&
          longLink === undefined
        ) {
          this.#ended = true;
          return null;
        }
        throw invalidTar('unexpected end of data');
      }
      let h: RawHeader | null;
      try {
        h = decodeHeader(this.#take(BLOCK_SIZE));
      } catch (err) {
        if (err instanceof TarFormatError) throw invalidTar(err.message, err);
        throw err;
      }
      if (h === null) {
        this.#ended = true;
        return null;
      }
      try {
        switch (h.typeflag) {
          case TypeFlag.paxLocal:
            local = parsePaxRecords(await this.#readRecord(h));
            continue;
          case TypeFlag.paxGlobal:
            for (const [k, v] of parsePaxRecords(await this.#readRecord(h))) {
              // A global path/linkpath/size would rename or resize every entry: ignore those.
              if (k !== 'path' && k !== 'linkpath' && k !== 'size') this.#setGlobal(k, v);
            }
            continue;
          case TypeFlag.gnuLongName:
            longName = cutNul(await this.#readRecord(h));
            continue;
          case TypeFlag.gnuLongLink:
            longLink = cutNul(await this.#readRecord(h));
            continue;
        }
      } catch (err) {
        if (err instanceof TarFormatError) throw invalidTar(err.message, err);
        throw err;
      }
      return this.#entry(h, local, longName, longLink);
    }
  }

  #entry(
    h: RawHeader,
    local: Map<string, Buffer> | undefined,
    longName: string | undefined,
    longLink: string | undefined,
  ): TarEntry {
    const pax: ReadonlyMap<string, Buffer> =
      this.#global.size === 0 ? (local ?? EMPTY) : new Map([...this.#global, ...(local ?? [])]);
    const paxPath = pax.get('path');
    const paxLink = pax.get('linkpath');
    const name = paxPath !== undefined ? bytesToName(paxPath) : (longName ?? h.name);
    const linkname = paxLink !== undefined ? bytesToName(paxLink) : (longLink ?? h.linkname);
    const kind = KIND_BY_FLAG.get(h.typeflag);
    if (kind === undefined) {
      const flag = String.fromCharCode(h.typeflag);
      const what = h.typeflag === TypeFlag.gnuSparse ? ' (GNU sparse file)' : '';
      throw refuseEntry(name, `unsupported tar entry type ${JSON.stringify(flag)}${what}`);
    }
    let xattrs = EMPTY;
    if (pax.size > 0) {
      let found: Map<string, Buffer> | undefined;
      for (const [k, v] of pax) {
        if (k.startsWith('GNU.sparse.')) throw refuseEntry(name, 'PAX sparse files are not supported');
        if (k.startsWith('SCHILY.xattr.')) {
          found ??= new Map();
          found.set(k.slice('SCHILY.xattr.'.length), v);
        }
      }
      if (found) xattrs = found;
    }
    const declaredSize = paxNumber(pax, 'size', true) ?? h.size;
    if (!Number.isSafeInteger(declaredSize) || declaredSize < 0) throw invalidTar('negative entry size');
    // Like Go's archive/tar (which Docker uses), only regular files carry data; a size on any
    // other kind is ignored.
    const size = kind === 'file' ? declaredSize : 0;
    const mtime = paxNumber(pax, 'mtime', false) ?? h.mtime;
    this.#contentLeft = size;
    this.#paddingLeft = padded(size) - size;
    return {
      kind,
      name,
      linkname,
      mode: h.mode & 0o7777,
      uid: paxNumber(pax, 'uid', true) ?? h.uid,
      gid: paxNumber(pax, 'gid', true) ?? h.gid,
      size,
      mtime,
      atime: paxNumber(pax, 'atime', false) ?? mtime,
      devmajor: h.devmajor,
      devminor: h.devminor,
      xattrs,
    };
  }

  /** The whole content of the current entry as one buffer; for small entries only. */
  async readContent(): Promise<Buffer> {
    const n = this.#contentLeft;
    if (this.#available < n && !(await this.#fill(n))) throw invalidTar('unexpected end of data');
    return this.bufferedContent()!;
  }

  /** The whole content of the current entry if it is already buffered (no await needed). */
  bufferedContent(): Buffer | undefined {
    const n = this.#contentLeft;
    if (this.#available < n) return undefined;
    this.#contentLeft = 0;
    return n === 0 ? EMPTY_BUFFER : this.#take(n);
  }

  /**
   * The content of the current entry in batches: each batch is every slice already buffered
   * (at least one, waiting for input if needed), up to `maxBytes`. For writev.
   */
  async *contentBatches(maxBytes: number, maxSlices: number): AsyncGenerator<Buffer[]> {
    while (this.#contentLeft > 0) {
      if (this.#available === 0 && !(await this.#fill(1))) throw invalidTar('unexpected end of data');
      const batch: Buffer[] = [];
      let bytes = 0;
      while (this.#contentLeft > 0 && this.#available > 0 && bytes < maxBytes && batch.length < maxSlices) {
        const piece = this.#takeSome(Math.min(this.#contentLeft, maxBytes - bytes));
        this.#contentLeft -= piece.length;
        bytes += piece.length;
        batch.push(piece);
      }
      yield batch;
    }
  }

  /** Reads and discards whatever follows the end-of-archive marker. */
  async drain(): Promise<void> {
    for (;;) {
      this.#chunks.length = 0;
      this.#available = 0;
      if (this.#error !== undefined) throw this.#error;
      if (this.#eof) return;
      await this.#fill(1);
    }
  }

  /**
   * Stops reading; destroys the input if it was not read to the end. Destroying (rather than
   * awaiting the iterator's return(), which would queue behind a pending read) settles a
   * read-ahead that waits on a stalled source, so a failed layer never hangs on its input.
   */
  close(): void {
    if (!this.#eof) {
      this.#eof = true;
      this.#input.destroy();
    }
  }
}

function cutNul(data: Buffer): string {
  const i = data.indexOf(0);
  return bytesToName(i === -1 ? data : data.subarray(0, i));
}
