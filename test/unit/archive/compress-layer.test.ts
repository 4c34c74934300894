// Layer gzip for push: valid gzip, deterministic, stored blocks for random data, compressed
// blocks for text, mixed content round-trips.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { compressLayer, incompressible } from '../../../src/archive/compress-layer.ts';

async function gz(data: Buffer, piece = 100_000): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += piece) parts.push(data.subarray(i, i + piece));
  const out: Buffer[] = [];
  for await (const c of compressLayer(Readable.from(parts))) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('compressLayer', () => {
  it('round-trips mixed content and is deterministic whatever the input chunking', async () => {
    const text = Buffer.from('layer text that compresses well. '.repeat(100_000));
    const data = Buffer.concat([text, randomBytes(3 << 20), text.subarray(0, 500_000)]);
    const a = await gz(data, 100_000);
    const b = await gz(data, 777_777);
    assert.ok(a.equals(b), 'same bytes for the same content');
    assert.ok(gunzipSync(a).equals(data));
  });

  it('stores random blocks and compresses text', async () => {
    const random = randomBytes(2 << 20);
    assert.equal(incompressible(random), true);
    const text = Buffer.from('abcdefgh'.repeat(300_000));
    assert.equal(incompressible(text), false);
    const r = await gz(random);
    assert.ok(r.length > random.length && r.length < random.length * 1.01, 'stored: about the input size');
    // GNU gzip accepts the stream (sync-flushed blocks, one member).
    const { execFileSync } = await import('node:child_process');
    assert.ok(execFileSync('gzip', ['-dc'], { input: r, maxBuffer: 64 << 20 }).equals(random));
    assert.ok((await gz(text)).length < text.length / 50, 'text compresses');
  });

  it('an empty input is an empty gzip member', async () => {
    assert.equal(gunzipSync(await gz(Buffer.alloc(0))).length, 0);
  });
});
