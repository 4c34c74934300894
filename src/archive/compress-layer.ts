// Gzip for pushed layers, deterministic (same tar → same bytes → same digest) and fast: the
// tar is cut into 1 MiB blocks, each deflated on its own (level 6, or stored when a 64 KiB
// sample shrinks by less than 3% — zlib spends ~30 ms per MiB on random bytes for nothing),
// with a sync flush so the blocks concatenate into one deflate stream, as pgzip does. Blocks are
// compressed on the thread pool four at a time, so a push uses every core. The header has no
// time and the trailer is the CRC-32 and size of the whole tar. Decisions depend only on the
// content, so the output is deterministic.
import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const BLOCK = 1 << 20;
const SAMPLE = 64 << 10;
const LEVEL = 6;
const IN_FLIGHT = 4;
const deflateRaw = promisify(zlib.deflateRaw);

/** gzip header: deflate, no flags, no time, no extra flags, OS unix. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);
/** A final, empty fixed-Huffman block: ends the deflate stream after the sync-flushed blocks. */
const LAST_BLOCK = Buffer.from([0x03, 0x00]);

/** Whether a block is (nearly) incompressible, judged on a sample at the fastest level. */
export function incompressible(block: Buffer): boolean {
  const sample = block.subarray(0, SAMPLE);
  if (sample.length < 512) return false;
  return zlib.deflateRawSync(sample, { level: 1 }).length >= sample.length * 0.97;
}

async function* blocks(source: Readable): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const c of source) {
    let chunk = c as Buffer;
    while (size + chunk.length >= BLOCK) {
      const take = BLOCK - size;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending);
      chunk = chunk.subarray(take);
      pending = [];
      size = 0;
    }
    if (chunk.length > 0) {
      pending.push(chunk);
      size += chunk.length;
    }
  }
  if (size > 0) yield Buffer.concat(pending);
}

async function* gzipBlocks(source: Readable): AsyncGenerator<Buffer> {
  yield HEADER;
  let crc = 0;
  let size = 0;
  const inflight: Promise<Buffer>[] = [];
  try {
    for await (const block of blocks(source)) {
      crc = zlib.crc32(block, crc);
      size = (size + block.length) % 2 ** 32;
      const level = incompressible(block) ? 0 : LEVEL;
      const p = deflateRaw(block, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      p.catch(() => {}); // awaited in order below
      inflight.push(p);
      if (inflight.length >= IN_FLIGHT) yield await inflight.shift()!;
    }
    while (inflight.length > 0) yield await inflight.shift()!;
  } finally {
    await Promise.allSettled(inflight);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size, 4);
  yield Buffer.concat([LAST_BLOCK, trailer]);
}

/** A gzip stream of `source` (see the file comment). Errors of `source` end it with that error. */
export function compressLayer(source: Readable): Readable {
  return ReadableStream.from(gzipBlocks(source), { objectMode: false });
}
