// Layer decompression by content sniffing (media types lie often enough that Docker sniffs too).

import { PassThrough, type Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { InvalidArgumentError } from '../errdefs/index.ts';

export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

/** The longest magic number we look for (xz). */
const SNIFF_BYTES = 6;
/** Output chunk size of the inflater: zlib's 16 KiB default costs a round trip per 16 KiB. */
const INFLATE_CHUNK = 128 * 1024;

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
  const code = (err as NodeJS.ErrnoException).code ?? '';
  // zlib's own errors carry Z_* codes; anything else is passed on as is.
  if (!code.startsWith('Z_') && code !== 'ERR_ZLIB_INITIALIZATION_FAILED') return err as Error;
  const detail = (err as Error).message;
  return new InvalidArgumentError(
    `LAYER_INVALID_${kind.toUpperCase()}`,
    `layer is not a valid ${kind} stream: ${detail}`,
    {
      cause: err,
    },
  );
}

/**
 * Reads the first bytes of `input` (flowing mode, then paused) and calls back with them and
 * whether the input already ended.
 */
function sniff(input: Readable, done: (head: Buffer, ended: boolean) => void): void {
  const chunks: Buffer[] = [];
  let length = 0;
  const finish = (ended: boolean): void => {
    input.removeListener('data', onData);
    input.removeListener('end', onEnd);
    done(Buffer.concat(chunks, length), ended);
  };
  const onData = (chunk: Buffer | string): void => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(b);
    length += b.length;
    if (length >= SNIFF_BYTES) {
      input.pause();
      finish(false);
    }
  };
  const onEnd = (): void => finish(true);
  input.on('data', onData);
  input.once('end', onEnd);
}

/**
 * Returns the uncompressed bytes of a layer: gzip is inflated, uncompressed input passes through
 * unchanged (no byte lost or reordered), zstd/bzip2/xz fail with an InvalidArgumentError.
 * Errors of the input and of decompression (e.g. a truncated gzip stream) surface as errors of
 * the returned stream. Destroying the returned stream destroys the input.
 */
export function decompress(input: Readable): Readable {
  const out = new PassThrough();
  let inflater: Transform | undefined;
  const fail = (err: Error): void => {
    out.destroy(err);
    inflater?.destroy();
    input.destroy();
  };
  // The consumer went away (or we failed): release the source, even if it is stalled.
  out.once('close', () => {
    inflater?.destroy();
    input.destroy();
  });
  input.on('error', fail);
  sniff(input, (head, ended) => {
    if (out.destroyed) return;
    const kind = detectCompression(head);
    if (kind === 'bzip2' || kind === 'xz') {
      fail(
        new InvalidArgumentError(
          'LAYER_UNSUPPORTED_COMPRESSION',
          `${kind}-compressed layers are not supported (OCI layers are gzip, zstd or uncompressed)`,
        ),
      );
      return;
    }
    if (kind === 'gzip' || kind === 'zstd') {
      inflater = kind === 'gzip' ? zlib.createGunzip({ chunkSize: INFLATE_CHUNK }) : zstdDecompressor();
      if (inflater === undefined) {
        fail(
          new InvalidArgumentError(
            'LAYER_UNSUPPORTED_COMPRESSION',
            `zstd-compressed layers are not supported by this Node version (${process.version}); Node 22.15 or newer is needed`,
          ),
        );
        return;
      }
      inflater.on('error', (err) => fail(decompressionError(kind, err)));
      inflater.pipe(out);
    }
    const sink = inflater ?? out;
    if (ended) {
      sink.end(head);
      return;
    }
    // Put the sniffed bytes back in front and let pipe() resume the flow with backpressure.
    if (head.length > 0) input.unshift(head);
    input.pipe(sink);
  });
  return out;
}
