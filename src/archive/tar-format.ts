// The tar wire format: 512-byte headers (ustar, GNU and v7), PAX records, numeric fields.
// Pure functions, no I/O.
//
// Names are kept as "binary strings": one JS char per byte (latin1), so that names which are
// not valid UTF-8 survive extraction and packing byte for byte, as GNU tar and Go keep them.
// `bytesToName`/`nameToBytes` convert; fs calls take `nameToBytes(path)`.

export const BLOCK_SIZE = 512;

/** Tar type flags, as the character codes of the header's typeflag byte. */
export const TypeFlag = {
  file: 0x30, // '0'
  oldFile: 0x00, // '\0' (pre-POSIX regular file)
  hardlink: 0x31, // '1'
  symlink: 0x32, // '2'
  char: 0x33, // '3'
  block: 0x34, // '4'
  directory: 0x35, // '5'
  fifo: 0x36, // '6'
  contiguous: 0x37, // '7' (regular file)
  paxLocal: 0x78, // 'x'
  paxGlobal: 0x67, // 'g'
  gnuLongName: 0x4c, // 'L'
  gnuLongLink: 0x4b, // 'K'
  gnuSparse: 0x53, // 'S'
} as const;

/** A header block as stored, before PAX and GNU long-name records are applied. */
export interface RawHeader {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: number;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
}

/** Thrown by the pure decoders; callers turn it into a user-facing error naming the layer. */
export class TarFormatError extends Error {}

export function bytesToName(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export function nameToBytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** A binary-string name as readable text for messages (invalid UTF-8 shows as U+FFFD). */
export function displayName(s: string): string {
  return nameToBytes(s).toString('utf8');
}

/** Round up to a whole number of blocks. */
export function padded(size: number): number {
  return Math.ceil(size / BLOCK_SIZE) * BLOCK_SIZE;
}

function cString(block: Buffer, offset: number, length: number): string {
  const end = block.indexOf(0, offset);
  const stop = end === -1 || end > offset + length ? offset + length : end;
  return block.toString('latin1', offset, stop);
}

/** Octal (space/NUL padded) or GNU base-256 number. */
export function decodeNumber(block: Buffer, offset: number, length: number, field: string): number {
  const first = block[offset]!;
  if (first & 0x80) {
    // GNU base-256: 0x80 marks a positive number, 0xff a negative one (two's complement).
    const value =
      first === 0xff ? -decodeNegative(block, offset, length) : decodePositive(block, offset, length);
    if (!Number.isSafeInteger(value)) throw new TarFormatError(`${field} field out of range`);
    return value;
  }
  let i = offset;
  const end = offset + length;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = block[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new TarFormatError(`invalid octal digit in ${field} field`);
    value = value * 8 + (c - 0x30);
    digits++;
  }
  for (; i < end; i++) {
    const c = block[i]!;
    if (c !== 0x20 && c !== 0) throw new TarFormatError(`invalid ${field} field`);
  }
  if (digits === 0) return 0;
  return value;
}

function decodePositive(block: Buffer, offset: number, length: number): number {
  let value = block[offset]! & 0x7f;
  for (let i = 1; i < length; i++) value = value * 256 + block[offset + i]!;
  return value;
}

function decodeNegative(block: Buffer, offset: number, length: number): number {
  // the magnitude of a two's-complement number: invert every byte, add one
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + (0xff - block[offset + i]!);
  return value + 1;
}

/** Sum of the header bytes with the checksum field counted as spaces. */
function unsignedChecksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += block[i]!;
  for (let i = 148; i < 156; i++) sum -= block[i]!;
  return sum + 8 * 0x20;
}

/** The same with bytes read as signed (some old tars compute it that way). */
function signedChecksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    sum += b > 127 ? b - 256 : b;
  }
  return sum;
}

const USTAR_MAGIC = Buffer.from('ustar\x0000', 'latin1');

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK_SIZE; i++) if (block[i] !== 0) return false;
  return true;
}

/** Decodes one header block; `null` for an all-zero block (end of archive). */
/** True if `block` (the first 512 bytes of a stream) is a tar header with a valid checksum. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK_SIZE) return false;
  try {
    return decodeHeader(block.subarray(0, BLOCK_SIZE)) !== null;
  } catch {
    return false;
  }
}

export function decodeHeader(block: Buffer): RawHeader | null {
  if (block.length !== BLOCK_SIZE) throw new TarFormatError('short header block');
  if (isZeroBlock(block)) return null;
  const stored = decodeNumber(block, 148, 8, 'checksum');
  if (stored !== unsignedChecksum(block) && stored !== signedChecksum(block)) {
    throw new TarFormatError('header checksum mismatch (is the layer compressed with an unknown format?)');
  }
  let name = cString(block, 0, 100);
  // Only POSIX ustar has the 155-byte prefix; GNU's "ustar  \0" keeps other data there.
  if (block.compare(USTAR_MAGIC, 0, 8, 257, 265) === 0 && block[345] !== 0) {
    name = `${cString(block, 345, 155)}/${name}`;
  }
  let typeflag = block[156]!;
  // Pre-POSIX archives mark directories with a trailing slash on a regular-file entry.
  if ((typeflag === TypeFlag.oldFile || typeflag === TypeFlag.file) && name.endsWith('/')) {
    typeflag = TypeFlag.directory;
  }
  return {
    name,
    mode: decodeNumber(block, 100, 8, 'mode'),
    uid: decodeNumber(block, 108, 8, 'uid'),
    gid: decodeNumber(block, 116, 8, 'gid'),
    size: decodeNumber(block, 124, 12, 'size'),
    mtime: decodeNumber(block, 136, 12, 'mtime'),
    typeflag,
    linkname: cString(block, 157, 100),
    devmajor: decodeNumber(block, 329, 8, 'devmajor'),
    devminor: decodeNumber(block, 337, 8, 'devminor'),
  };
}

/**
 * Parses PAX extended header records (`"<len> <key>=<value>\n"`). Values stay bytes: xattr
 * values are binary and paths need not be UTF-8.
 */
export function parsePaxRecords(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    // Trailing NUL padding is tolerated (some writers pad the record block).
    if (data[pos] === 0) break;
    let len = 0;
    let i = pos;
    for (; i < data.length && i - pos < 16; i++) {
      const c = data[i]!;
      if (c === 0x20) break;
      if (c < 0x30 || c > 0x39) throw new TarFormatError('malformed PAX record length');
      len = len * 10 + (c - 0x30);
    }
    const space = i;
    const end = pos + len;
    if (
      data[space] !== 0x20 ||
      space === pos ||
      len <= space - pos + 1 ||
      end > data.length ||
      data[end - 1] !== 0x0a
    ) {
      throw new TarFormatError('malformed PAX record');
    }
    const eq = data.indexOf(0x3d, space + 1);
    if (eq === -1 || eq >= end - 1) throw new TarFormatError('malformed PAX record: no "="');
    const key = data.toString('utf8', space + 1, eq);
    out.set(key, data.subarray(eq + 1, end - 1));
    pos = end;
  }
  return out;
}

/** Encodes PAX records; keys are ASCII, values raw bytes. */
export function encodePaxRecords(records: ReadonlyArray<readonly [string, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.byteLength(key) + value.length + 3; // ' ' '=' '\n'
    let len = body + String(body).length;
    if (String(len).length !== String(body).length) len = body + String(len).length;
    parts.push(Buffer.from(`${len} ${key}=`, 'latin1'), value, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export interface HeaderFields {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: number;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
}

/** Largest value an octal field of `length` bytes holds (length-1 digits plus a NUL). */
export function octalFits(value: number, length: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < 8 ** (length - 1);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  if (!octalFits(value, length))
    throw new RangeError(`value ${value} does not fit a ${length}-byte tar field`);
  block.write(value.toString(8).padStart(length - 1, '0'), offset, length - 1, 'latin1');
  block[offset + length - 1] = 0;
}

function writeField(block: Buffer, offset: number, length: number, value: string): void {
  const bytes = nameToBytes(value);
  bytes.copy(block, offset, 0, Math.min(bytes.length, length));
}

/**
 * Encodes a POSIX ustar header. Fields must fit (callers put long names, big ids and sizes in a
 * PAX record first and pass truncated/zero values here).
 */
export function encodeHeader(h: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeField(block, 0, 100, h.name);
  writeOctal(block, 100, 8, h.mode & 0o7777);
  writeOctal(block, 108, 8, h.uid);
  writeOctal(block, 116, 8, h.gid);
  writeOctal(block, 124, 12, h.size);
  writeOctal(block, 136, 12, h.mtime);
  block[156] = h.typeflag;
  if (h.linkname) writeField(block, 157, 100, h.linkname);
  USTAR_MAGIC.copy(block, 257);
  writeOctal(block, 329, 8, h.devmajor ?? 0);
  writeOctal(block, 337, 8, h.devminor ?? 0);
  block.fill(0x20, 148, 156);
  block.write(unsignedChecksum(block).toString(8).padStart(6, '0'), 148, 6, 'latin1');
  block[154] = 0;
  block[155] = 0x20;
  return block;
}
