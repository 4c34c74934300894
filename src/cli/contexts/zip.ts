// Just enough of a zip reader for `context import` (docker accepts zip context archives): the
// central directory's entries, stored or deflated, no zip64, no encryption. Hand-written over
// node:zlib because Berth's dependencies are shared by every checkout and none reads zip.
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  readonly name: string;
  readonly directory: boolean;
  readonly data: Buffer;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function isZip(b: Buffer): boolean {
  return b.length >= 4 && b.readUInt32LE(0) === LOCAL;
}

/** The entries of a whole zip archive; throws an Error naming what is wrong. */
export function readZip(b: Buffer, maxTotal: number): ZipEntry[] {
  // The end record is in the last 22 bytes plus a comment of up to 65535.
  let end = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--)
    if (b.readUInt32LE(i) === EOCD) {
      end = i;
      break;
    }
  if (end < 0) throw new Error('zip: no end of central directory');
  const count = b.readUInt16LE(end + 10);
  let p = b.readUInt32LE(end + 16);
  if (count === 0xffff || p === 0xffffffff) throw new Error('zip: zip64 archives are not supported');
  const out: ZipEntry[] = [];
  let total = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > b.length || b.readUInt32LE(p) !== CENTRAL) throw new Error('zip: bad central directory');
    const flags = b.readUInt16LE(p + 8);
    const method = b.readUInt16LE(p + 10);
    const size = b.readUInt32LE(p + 20);
    const usize = b.readUInt32LE(p + 24);
    const nameLen = b.readUInt16LE(p + 28);
    const skip = nameLen + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
    const local = b.readUInt32LE(p + 42);
    const name = b.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + skip;
    if (flags & 1) throw new Error(`zip: ${name} is encrypted`);
    total += usize;
    if (total > maxTotal) throw new Error('zip: archive is larger than allowed');
    if (local + 30 > b.length || b.readUInt32LE(local) !== LOCAL)
      throw new Error(`zip: bad local header of ${name}`);
    const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    const raw = b.subarray(start, start + size);
    if (raw.length !== size) throw new Error(`zip: ${name} is cut short`);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw, { maxOutputLength: Math.max(usize, 1) });
    else throw new Error(`zip: ${name} uses unsupported compression method ${method}`);
    if (data.length !== usize) throw new Error(`zip: ${name} has the wrong size`);
    out.push({ name, directory: name.endsWith('/'), data });
  }
  return out;
}
