// Docker's multiplexed stream framing and the `docker logs -t` timestamp.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InternalError, InvalidArgumentError } from '../../../src/errdefs/index.ts';
import {
  demux,
  type Frame,
  formatTimestamp,
  frameHeader,
  type LogRecord,
  logFramingFor,
  MERGE_MAX,
  muxFrame,
  muxLogRecords,
} from '../../../src/logs/index.ts';
import { T0 } from './helpers.ts';

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, o + size);
}

async function all(src: AsyncIterable<Buffer>): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of demux(src)) out.push(f);
  return out;
}

test('muxFrame writes the 8-byte header then the payload', () => {
  assert.deepEqual([...muxFrame('stdout', Buffer.from('hi\n'))], [1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]);
  assert.deepEqual([...muxFrame('stderr', Buffer.alloc(0))], [2, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...muxFrame('stdin', Buffer.from('x'))].slice(0, 8), [0, 0, 0, 0, 0, 0, 0, 1]);
  const big = muxFrame('stdout', Buffer.alloc(0x12345, 1));
  assert.deepEqual([...big.subarray(0, 8)], [1, 0, 0, 0, 0, 0x01, 0x23, 0x45]);
  assert.deepEqual([...frameHeader('stderr', 258)], [2, 0, 0, 0, 0, 0, 1, 2]);
  assert.throws(() => frameHeader('stdout', -1), InvalidArgumentError);
});

test('demux round-trips frames however the bytes are chunked', async () => {
  const frames: Frame[] = [
    { stream: 'stdout', data: Buffer.from('hello\n') },
    { stream: 'stderr', data: Buffer.from('oops\n') },
    { stream: 'stdout', data: Buffer.alloc(0) },
    { stream: 'stdin', data: Buffer.from([0, 1, 2, 255]) },
    { stream: 'stdout', data: Buffer.alloc(100_000, 0x61) },
  ];
  const wire = Buffer.concat(frames.map((f) => muxFrame(f.stream, f.data)));
  for (const size of [1, 3, 8, 9, 1000, wire.length]) {
    assert.deepEqual(await all(chunks(wire, size)), frames, `chunk size ${size}`);
  }
});

test('demux rejects unknown stream ids, reports daemon errors, and notices a cut-off frame', async () => {
  const bad = Buffer.from([7, 0, 0, 0, 0, 0, 0, 1, 0x61]);
  await assert.rejects(all(chunks(bad, 4)), InvalidArgumentError);
  const sysErr = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 4]), Buffer.from('boom')]);
  await assert.rejects(
    all(chunks(sysErr, 100)),
    (e: unknown) => e instanceof InternalError && /boom/.test(e.message),
  );
  const cut = muxFrame('stdout', Buffer.from('abcdef')).subarray(0, 10);
  await assert.rejects(all(chunks(cut, 3)), InvalidArgumentError);
  const headerOnly = muxFrame('stdout', Buffer.from('abc')).subarray(0, 5);
  await assert.rejects(all(chunks(headerOnly, 5)), InvalidArgumentError);
});

test('formatTimestamp prints RFC3339Nano in UTC with 9 digits and Z', () => {
  assert.equal(formatTimestamp(T0), '2026-11-22T07:23:30.449451672Z');
  assert.equal(formatTimestamp('2026-11-22T07:23:30Z'), '2026-11-22T07:23:30.000000000Z');
  assert.equal(formatTimestamp('2026-11-22T07:23:30.5Z'), '2026-11-22T07:23:30.500000000Z');
  assert.equal(formatTimestamp('2026-11-22T09:23:30.000000001+02:00'), '2026-11-22T07:23:30.000000001Z');
  assert.equal(formatTimestamp('2026-11-22T00:30:00.1-01:00'), '2026-11-22T01:30:00.100000000Z');
  assert.equal(
    formatTimestamp(new Date(Date.UTC(2026, 10, 22, 7, 23, 30, 449))),
    '2026-11-22T07:23:30.449000000Z',
  );
  assert.equal(
    formatTimestamp(Date.UTC(2026, 10, 22, 7, 23, 30) / 1000 + 0.25),
    '2026-11-22T07:23:30.250000000Z',
  );
  assert.throws(() => formatTimestamp('not a time'), InvalidArgumentError);
});

test('muxLogRecords frames records as Docker sends logs, optionally with timestamps', async () => {
  const records: LogRecord[] = [
    { stream: 'stdout', time: T0, data: Buffer.from('one\n') },
    { stream: 'stderr', time: '2026-11-22T07:23:31.000000001+00:00', data: Buffer.from('two\n') },
  ];
  const plainWire = muxLogRecords(records);
  assert.deepEqual(plainWire, Buffer.concat(records.map((r) => muxFrame(r.stream, r.data))));
  const stamped = await all(chunks(muxLogRecords(records, { timestamps: true }), 5));
  assert.deepEqual(
    stamped.map((f) => `${f.stream}|${f.data.toString()}`),
    ['stdout|2026-11-22T07:23:30.449451672Z one\n', 'stderr|2026-11-22T07:23:31.000000001Z two\n'],
  );
  assert.equal(muxLogRecords([]).length, 0);
  // Runs of records with one time (conmon stamps a whole read alike).
  const same: LogRecord[] = ['a\n', 'bb', 'c\n', 'd\n'].map((d, i) => ({
    stream: i === 2 ? 'stderr' : 'stdout',
    time: i < 3 ? T0 : '2026-11-22T07:23:31.5Z',
    data: Buffer.from(d),
  }));
  const frames = await all(chunks(muxLogRecords(same, { timestamps: true }), 7));
  assert.deepEqual(
    frames.map((f) => `${f.stream}|${f.data.toString()}`),
    [
      'stdout|2026-11-22T07:23:30.449451672Z a\n',
      'stdout|2026-11-22T07:23:30.449451672Z bb',
      'stderr|2026-11-22T07:23:30.449451672Z c\n',
      'stdout|2026-11-22T07:23:31.500000000Z d\n',
    ],
  );
});

/** Each stream's bytes in order, and the interleaving of streams (runs collapsed). */
function demuxed(frames: readonly Frame[]): { out: string; err: string; runs: string } {
  let out = '';
  let err = '';
  let runs = '';
  for (const f of frames) {
    if (f.stream === 'stdout') out += f.data.toString('latin1');
    else err += f.data.toString('latin1');
    const tag = f.stream === 'stdout' ? 'o' : 'e';
    if (f.data.length > 0 && !runs.endsWith(tag)) runs += tag;
  }
  return { out, err, runs };
}

test('muxLogRecords with merge: the same bytes per stream and the same interleaving, fewer frames', async () => {
  const record = fc.record({
    stream: fc.constantFrom<'stdout' | 'stderr'>('stdout', 'stderr'),
    time: fc.constantFrom(T0, '2026-11-22T07:23:31.5Z'),
    data: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(record, { maxLength: 60 }), fc.boolean(), async (records, timestamps) => {
      const plain = await all(chunks(muxLogRecords(records, { timestamps }), 13));
      const merged = await all(chunks(muxLogRecords(records, { timestamps, framing: 'merged' }), 13));
      assert.deepEqual(demuxed(merged), demuxed(plain));
      // A frame per run of one stream: neighbours always differ in stream.
      for (let i = 1; i < merged.length; i++) assert.notEqual(merged[i]!.stream, merged[i - 1]!.stream);
      assert.ok(merged.length <= plain.length);
    }),
    { numRuns: 300 },
  );
});

test('muxLogRecords with merge caps a frame at MERGE_MAX unless one record is larger', async () => {
  const line = Buffer.alloc(300_000, 0x61);
  const huge = Buffer.alloc(MERGE_MAX + 5, 0x62);
  const records: LogRecord[] = [line, line, line, line, huge, line].map((data) => ({
    stream: 'stdout',
    time: T0,
    data,
  }));
  const frames = await all(chunks(muxLogRecords(records, { framing: 'merged' }), 1 << 16));
  assert.deepEqual(
    frames.map((f) => f.data.length),
    [900_000, 300_000, MERGE_MAX + 5, 300_000],
  );
  assert.equal(
    Buffer.concat(frames.map((f) => f.data)).equals(Buffer.concat(records.map((r) => r.data))),
    true,
  );
});

test('logFramingFor: merged frames for the docker CLI only', () => {
  assert.equal(logFramingFor('Docker-Client/28.0.4 (linux)'), 'merged');
  for (const ua of [
    'docker-sdk-python/7.1.0',
    'Go-http-client/1.1',
    'berth/0.1 docker-client',
    '',
    undefined,
  ])
    assert.equal(logFramingFor(ua), 'per-record', String(ua));
  const records: LogRecord[] = ['a\n', 'b\n'].map((d) => ({
    stream: 'stdout',
    time: T0,
    data: Buffer.from(d),
  }));
  // Unset is Docker's framing: a frame per record.
  assert.deepEqual(muxLogRecords(records), muxLogRecords(records, { framing: 'per-record' }));
});
