// Layer decompression by content sniffing (media types lie often enough that Docker sniffs too).

import { Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { InvalidArgumentError } from '../errdefs/index.ts';

export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

/** The longest magic number we look for (xz). */
const SNIFF_BYTES = 6;

export function detectCompression(head: Uint8Array): Compression {
  const b = (i: number): number | undefined => head[i];
  if (b(0) === 0x1f && b(1) === 0x8b) return 'gzip';
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return 'zstd';
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return 'bzip2'; // "BZh"
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a && b(5) === 0x00) {
    return 'xz';
  }
  return 'none';
}

/** Node ≥ 22.15 has zstd in zlib; Berth targets Node 20, so use it only when present. */
function zstdDecompressor(): Transform | undefined {
  const create = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
  return typeof create === 'function' ? create() : undefined;
}

function decompressionError(kind: 'gzip' | 'zstd', err: unknown): Error {
  if (err instanceof InvalidArgumentError || (err as { name?: string }).name === 'AbortError') return err as Error;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  // zlib's own errors carry Z_* codes; anything else came from the input stream: pass it on.
  if (!code.startsWith('Z_') && code !== 'ERR_ZLIB_INITIALIZATION_FAILED') return err as Error;
  const detail = (err as Error).message;
  return new InvalidArgumentError(`LAYER_INVALID_${kind.toUpperCase()}`, `layer is not a valid ${kind} stream: ${detail}`, {
    cause: err,
  });
}

async function* chunksOf(head: Buffer[], rest: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  for (const c of head) yield c;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value as Buffer;
  }
}

async function* decompressChunks(input: Readable): AsyncGenerator<Buffer> {
  const it: AsyncIterator<unknown> = input[Symbol.asyncIterator]();
  let done = false;
  try {
    const head: Buffer[] = [];
    let have = 0;
    while (have < SNIFF_BYTES) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
      if (b.length === 0) continue;
      head.push(b);
      have += b.length;
    }
    const kind = detectCompression(Buffer.concat(head, Math.min(have, SNIFF_BYTES)));
    switch (kind) {
      case 'none':
        yield* chunksOf(head, it);
        done = true;
        return;
      case 'bzip2':
      case 'xz':
        throw new InvalidArgumentError(
          'LAYER_UNSUPPORTED_COMPRESSION',
          `${kind}-compressed layers are not supported (OCI layers are gzip, zstd or uncompressed)`,
        );
      case 'gzip':
      case 'zstd': {
        const inflater = kind === 'gzip' ? zlib.createGunzip() : zstdDecompressor();
        if (inflater === undefined) {
          throw new InvalidArgumentError(
            'LAYER_UNSUPPORTED_COMPRESSION',
            `zstd-compressed layers are not supported by this Node version (${process.version}); Node 22.15 or newer is needed`,
          );
        }
        // Readable.from + pipe keeps backpressure; an input error destroys the inflater with it.
        const source = Readable.from(chunksOf(head, it), { objectMode: false });
        source.on('error', (e) => inflater.destroy(e));
        source.pipe(inflater);
        try {
          for await (const chunk of inflater) yield chunk as Buffer;
        } catch (err) {
          throw decompressionError(kind, err);
        } finally {
          source.destroy();
          inflater.destroy();
        }
        done = true;
        return;
      }
    }
  } finally {
    // Stopped early (consumer gone or an error): release the input.
    if (!done) await it.return?.();
  }
}

/**
 * Returns the uncompressed bytes of a layer: gzip is inflated, uncompressed input passes through
 * unchanged (no byte lost or reordered), zstd/bzip2/xz fail with an InvalidArgumentError.
 * Errors of the input and of decompression (e.g. a truncated gzip stream) surface as errors of
 * the returned stream.
 */
export function decompress(input: Readable): Readable {
  return Readable.from(decompressChunks(input), { objectMode: false });
}
