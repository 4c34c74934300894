import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { decompress, detectCompression } from '../../../src/archive/index.ts';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';
import { streamOf } from './helpers.ts';

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('decompress', () => {
  it('passes uncompressed bytes through unchanged, across odd chunk boundaries', async () => {
    for (const [size, len] of [
      [1, 5_000],
      [3, 20_000],
      [7, 20_000],
      [4096, 300_001],
      [1 << 20, 300_001],
    ] as const) {
      const data = randomBytes(len);
      data[0] = 0x75; // not a magic number
      assert.deepEqual(await collect(decompress(streamOf(data, size))), data, `chunk size ${size}`);
    }
  });

  it('passes through input shorter than the longest magic number, and empty input', async () => {
    assert.deepEqual(await collect(decompress(streamOf(Buffer.from('ab')))), Buffer.from('ab'));
    assert.deepEqual(await collect(decompress(Readable.from([], { objectMode: false }))), Buffer.alloc(0));
  });

  it('inflates gzip, also when the magic bytes are split across chunks', async () => {
    for (const [size, len] of [
      [1, 3_000],
      [2, 3_000],
      [1000, 200_000],
      [1 << 20, 200_000],
    ] as const) {
      const data = randomBytes(len);
      const gz = zlib.gzipSync(data);
      assert.deepEqual(await collect(decompress(streamOf(gz, size))), data, `chunk size ${size}`);
    }
  });

  it('fails a truncated gzip stream with a clear InvalidArgumentError', async () => {
    const gz = zlib.gzipSync(randomBytes(100_000));
    const truncated = gz.subarray(0, gz.length - 1000);
    await assert.rejects(collect(decompress(streamOf(truncated, 4096))), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.code, 'LAYER_INVALID_GZIP');
      assert.match(err.message, /^layer is not a valid gzip stream: unexpected end of file/);
      return true;
    });
  });

  it('fails corrupt gzip data', async () => {
    const gz = Buffer.from(zlib.gzipSync(randomBytes(10_000)));
    gz.fill(0x55, 20, 200);
    await assert.rejects(collect(decompress(streamOf(gz))), /layer is not a valid gzip stream/);
  });

  for (const [kind, magic] of [
    ['zstd', [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]],
    ['bzip2', [0x42, 0x5a, 0x68, 0x39, 0, 0, 0]],
    ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]],
  ] as const) {
    it(`refuses ${kind} with an InvalidArgumentError naming it`, async () => {
      assert.equal(detectCompression(Buffer.from(magic)), kind);
      const hasZstd = typeof (zlib as unknown as Record<string, unknown>).createZstdDecompress === 'function';
      if (kind === 'zstd' && hasZstd) return; // newer Node: supported
      await assert.rejects(collect(decompress(streamOf(Buffer.from(magic), 1))), (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError);
        assert.equal(err.code, 'LAYER_UNSUPPORTED_COMPRESSION');
        assert.match(err.message, new RegExp(`^${kind}-compressed layers are not supported`));
        return true;
      });
    });
  }

  it('propagates an error of the input stream', async () => {
    const boom = new Error('disk on fire');
    const input = new Readable({
      read() {
        this.push(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
        this.destroy(boom);
      },
    });
    await assert.rejects(collect(decompress(input)), (err) => err === boom);
  });

  it('destroys the input when the consumer stops early', async () => {
    const input = streamOf(randomBytes(1 << 20), 1024);
    const out = decompress(input);
    for await (const _ of out) break;
    await new Promise((r) => setImmediate(r));
    assert.ok(input.destroyed);
  });
});
