import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import {
  DEFAULT_DETACH_KEYS,
  DetachKeyMatcher,
  detachKeyBytes,
  parseDetachKeys,
  watchDetachKeys,
} from '../../../src/api/streams/detach-keys.ts';

describe('detach key syntax (Docker’s)', () => {
  test('ctrl keys, single characters, DEL, comma-separated', () => {
    assert.deepEqual(detachKeyBytes('ctrl-p,ctrl-q'), Buffer.from([16, 17]));
    assert.deepEqual(detachKeyBytes('ctrl-@,ctrl-a,ctrl-z'), Buffer.from([0, 1, 26]));
    assert.deepEqual(
      detachKeyBytes('ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_'),
      Buffer.from([27, 28, 29, 30, 31]),
    );
    assert.deepEqual(detachKeyBytes('a,b,DEL'), Buffer.from([97, 98, 127]));
    assert.deepEqual(detachKeyBytes(','), undefined);
    assert.deepEqual(detachKeyBytes(''), Buffer.alloc(0));
  });
  test('bad keys are refused', () => {
    for (const bad of ['ctrl-P', 'ctrl-1', 'ctrl-', 'ctrlp', 'ab', 'é', 'ctrl-p,', 'del', 'ctrl-pq'])
      assert.equal(detachKeyBytes(bad), undefined, bad);
    assert.throws(
      () => parseDetachKeys('ctrl-1', 'detach'),
      (e: Error & { kind?: string }) =>
        e.kind === 'invalid-argument' && e.message.startsWith('Invalid detach keys (ctrl-1) provided'),
    );
    assert.throws(
      () => parseDetachKeys('zz', 'escape'),
      /^Error: Invalid escape keys \(zz\) provided|Invalid escape keys \(zz\) provided/,
    );
  });
  test('no keys means ctrl-p ctrl-q', () => {
    assert.deepEqual(parseDetachKeys('', 'detach'), DEFAULT_DETACH_KEYS);
    assert.deepEqual(parseDetachKeys(undefined, 'escape'), Buffer.from([16, 17]));
  });
});

describe('finding the keys in a stream', () => {
  const feed = (keys: Buffer, chunks: (string | number[])[]) => {
    const m = new DetachKeyMatcher(keys);
    let out = '';
    for (const c of chunks) out += m.push(Buffer.from(c as never)).toString('latin1');
    return { out, detached: m.detached };
  };
  test('the sequence is swallowed, what precedes it passes', () => {
    assert.deepEqual(feed(DEFAULT_DETACH_KEYS, ['ab\x10\x11cd']), { out: 'ab', detached: true });
  });
  test('a sequence split across chunks', () => {
    assert.deepEqual(feed(DEFAULT_DETACH_KEYS, ['x\x10', '\x11', 'more']), { out: 'x', detached: true });
  });
  test('a broken sequence passes every byte in order', () => {
    assert.deepEqual(feed(DEFAULT_DETACH_KEYS, ['a\x10', 'b\x11']), { out: 'a\x10b\x11', detached: false });
    assert.deepEqual(feed(DEFAULT_DETACH_KEYS, ['\x10\x10\x11']), { out: '\x10', detached: true });
  });
  test('a single key detaches at once', () => {
    assert.deepEqual(feed(Buffer.from([24]), ['hi\x18there']), { out: 'hi', detached: true });
  });
  test('the watched stream does not end on detach (the process keeps its stdin)', async () => {
    const input = new PassThrough();
    let detached = 0;
    const out = watchDetachKeys(input, DEFAULT_DETACH_KEYS, () => detached++);
    let ended = false;
    let got = '';
    out.on('data', (c: Buffer) => {
      got += c.toString();
    });
    out.on('end', () => {
      ended = true;
    });
    input.write('echo\n\x10');
    input.write('\x11after');
    input.end();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(got, 'echo\n');
    assert.equal(detached, 1);
    assert.equal(ended, false);
  });
});
