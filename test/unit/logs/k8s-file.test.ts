// The k8s-file parser: F/P records, torn last lines, garbage, chunk boundaries anywhere, very
// long lines in bounded memory, timestamps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareInstants,
  instantFromSeconds,
  K8sFileParser,
  type LogRecord,
  parseK8sFile,
  parseTimestamp,
} from '../../../src/logs/index.ts';
import { line, plain, T0, texts, ts } from './helpers.ts';

test('parses F and P records into the bytes the process wrote', () => {
  const input = [
    line(T0, 'stdout', 'F', 'hello from busybox'),
    line(ts(31), 'stderr', 'P', 'part one '),
    line(ts(32), 'stderr', 'F', 'part two'),
    `${ts(33)} stdout F \n`, // an empty line
    `${ts(34)} stdout F\n`, // an empty line, written without the separator
  ].join('');
  assert.deepEqual(plain(parseK8sFile(Buffer.from(input))), [
    { stream: 'stdout', time: T0, data: 'hello from busybox\n' },
    { stream: 'stderr', time: ts(31), data: 'part one ' },
    { stream: 'stderr', time: ts(32), data: 'part two\n' },
    { stream: 'stdout', time: ts(33), data: '\n' },
    { stream: 'stdout', time: ts(34), data: '\n' },
  ]);
});

test('keeps content bytes exactly: spaces, tabs, binary, invalid UTF-8', () => {
  const content = Buffer.from([0x20, 0x09, 0x00, 0xff, 0xfe, 0x41, 0x20, 0x20]);
  const input = Buffer.concat([Buffer.from(`${T0} stdout P `), content, Buffer.from('\n')]);
  const [r] = parseK8sFile(input);
  assert.ok(r);
  assert.deepEqual(r.data, content);
});

test('a torn last line is held back until flushed', () => {
  const out: LogRecord[] = [];
  const p = new K8sFileParser((r) => out.push(r));
  p.push(Buffer.from(`${line(T0, 'stdout', 'F', 'one')}${T0} stdout F tw`));
  assert.deepEqual(texts(out), ['stdout:one\n']);
  assert.ok(p.midLine);
  p.push(Buffer.from('o\n'));
  assert.deepEqual(texts(out), ['stdout:one\n', 'stdout:two\n']);
  assert.ok(!p.midLine);

  p.push(Buffer.from(`${T0} stderr P no newline yet`));
  assert.equal(out.length, 2);
  p.flush(); // the writer is gone: the line is final
  assert.deepEqual(texts(out).slice(2), ['stderr:no newline yet']);

  p.push(Buffer.from(`${T0} stdout F cut off`));
  p.flush();
  assert.deepEqual(texts(out).slice(3), ['stdout:cut off\n']);
  // Flushing a torn header yields nothing.
  p.push(Buffer.from('2026-11-22T07:2'));
  p.flush();
  assert.equal(out.length, 4);
  assert.deepEqual(parseK8sFile(Buffer.from(`${T0} stdout F x`)), []);
  assert.deepEqual(texts(parseK8sFile(Buffer.from(`${T0} stdout F x`), { final: true })), ['stdout:x\n']);
});

test('skips garbage lines without losing the records around them', () => {
  const input = [
    'garbage\n',
    '\n',
    line(T0, 'stdout', 'F', 'ok1'),
    `${T0} stdin F not a stream\n`,
    `${T0} stdout X bad tag\n`,
    `${T0} stdout Fno-space\n`,
    `not-a-time stdout F x\n`,
    `2026-11-22 07:23:30 stdout F space in time\n`,
    `${T0}\n`,
    `${T0} stdout\n`,
    '\u0000\u0001\u0002\n',
    line(T0, 'stderr', 'F', 'ok2'),
  ].join('');
  const out: LogRecord[] = [];
  const p = new K8sFileParser((r) => out.push(r));
  p.push(Buffer.from(input));
  assert.deepEqual(texts(out), ['stdout:ok1\n', 'stderr:ok2\n']);
  assert.equal(p.skipped, 10);
});

test('accepts other RFC3339 timestamp forms', () => {
  const input = [
    '2026-11-22T07:23:30Z stdout F a\n',
    '2026-11-22T07:23:30.5Z stdout F b\n',
    '2026-11-22T09:23:30.123456+02:00 stdout F c\n',
  ].join('');
  const out = parseK8sFile(Buffer.from(input));
  assert.deepEqual(
    out.map((r) => r.time),
    ['2026-11-22T07:23:30Z', '2026-11-22T07:23:30.5Z', '2026-11-22T09:23:30.123456+02:00'],
  );
});

test('gives the same records however the input is split into chunks', () => {
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) {
    const stream = i % 3 === 0 ? 'stderr' : 'stdout';
    lines.push(
      line(
        ts(i % 60, String(i).padStart(9, '0')),
        stream,
        i % 4 === 0 ? 'P' : 'F',
        `line ${i} ${'x'.repeat(i)}`,
      ),
    );
    if (i % 7 === 0) lines.push('garbage line\n');
  }
  const input = Buffer.from(lines.join(''));
  const whole = plain(parseK8sFile(input));
  assert.equal(whole.length, 60);
  for (const size of [1, 2, 3, 7, 50, 64, 101, 4096]) {
    const out: LogRecord[] = [];
    const p = new K8sFileParser((r) => out.push(r));
    for (let o = 0; o < input.length; o += size) p.push(input.subarray(o, o + size));
    assert.deepEqual(plain(out), whole, `chunk size ${size}`);
  }
  // Random splits too.
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let round = 0; round < 20; round++) {
    const out: LogRecord[] = [];
    const p = new K8sFileParser((r) => out.push(r));
    let o = 0;
    while (o < input.length) {
      const n = 1 + Math.floor(rnd() * 200);
      p.push(input.subarray(o, o + n));
      o += n;
    }
    assert.deepEqual(plain(out), whole);
  }
});

test('reports each line offset', () => {
  const a = line(T0, 'stdout', 'F', 'a');
  const b = line(T0, 'stderr', 'F', 'bb');
  const offsets: number[] = [];
  const p = new K8sFileParser((_r, off) => offsets.push(off), { offset: 1000 });
  p.push(Buffer.from(a + b.slice(0, 10)));
  p.push(Buffer.from(b.slice(10) + a));
  assert.deepEqual(offsets, [1000, 1000 + a.length, 1000 + a.length + b.length]);
  assert.equal(p.offset, 1000 + 2 * a.length + b.length);
});

test('passes a very long line on in pieces, holding at most maxLineBytes', () => {
  const max = 4096;
  const pieces: LogRecord[] = [];
  const ends: boolean[] = [];
  const p = new K8sFileParser(
    (r, _off, endsLine) => {
      pieces.push(r);
      ends.push(endsLine);
    },
    { maxLineBytes: max },
  );
  const content = Buffer.alloc(1 << 20, 0x61);
  p.push(Buffer.from(`${T0} stdout F `));
  let peak = 0;
  for (let o = 0; o < content.length; o += 1000) {
    p.push(content.subarray(o, o + 1000));
    peak = Math.max(peak, p.pendingBytes);
  }
  p.push(Buffer.from(`\n${line(T0, 'stderr', 'F', 'after')}`));
  assert.ok(peak <= max + 1000, `held ${peak} bytes`);
  const stdout = pieces.filter((r) => r.stream === 'stdout');
  const joined = Buffer.concat(stdout.map((r) => r.data));
  assert.equal(joined.length, content.length + 1);
  assert.ok(joined.subarray(0, content.length).equals(content));
  assert.equal(joined.at(-1), 0x0a);
  assert.ok(stdout.every((r) => r.time === T0));
  // Only the last piece ends the line, and only it has the newline.
  assert.deepEqual(
    ends.slice(0, stdout.length - 1).every((e) => !e),
    true,
  );
  assert.equal(ends[stdout.length - 1], true);
  assert.ok(stdout.slice(0, -1).every((r) => !r.data.includes(0x0a)));
  assert.deepEqual(texts(pieces.slice(stdout.length)), ['stderr:after\n']);
});

test('skips a very long garbage line in bounded memory', () => {
  const out: LogRecord[] = [];
  const p = new K8sFileParser((r) => out.push(r), { maxLineBytes: 1024 });
  for (let i = 0; i < 100; i++) {
    p.push(Buffer.alloc(1000, 0x7a));
    assert.ok(p.pendingBytes <= 2048);
  }
  p.push(Buffer.from(`\n${line(T0, 'stdout', 'F', 'fine')}`));
  assert.deepEqual(texts(out), ['stdout:fine\n']);
});

test('parses timestamps to seconds and nanoseconds', () => {
  const base = Date.UTC(2026, 10, 22, 7, 23, 30) / 1000;
  assert.deepEqual(parseTimestamp(T0), { sec: base, nsec: 449451672 });
  assert.deepEqual(parseTimestamp('2026-11-22T07:23:30Z'), { sec: base, nsec: 0 });
  assert.deepEqual(parseTimestamp('2026-11-22T07:23:30.5Z'), { sec: base, nsec: 500000000 });
  assert.deepEqual(parseTimestamp('2026-11-22T09:23:30.000000001+02:00'), { sec: base, nsec: 1 });
  assert.deepEqual(parseTimestamp('2026-11-22T05:53:30.1-01:30'), { sec: base, nsec: 100000000 });
  for (const bad of [
    '',
    'yesterday',
    '2026-11-22T07:23:30',
    '2026-11-22T07:23:30.Z',
    '2026-11-22T07:23:3xZ',
  ]) {
    assert.equal(parseTimestamp(bad), undefined, bad);
  }
  assert.deepEqual(instantFromSeconds(base + 0.25), { sec: base, nsec: 250000000 });
  assert.ok(compareInstants({ sec: 1, nsec: 5 }, { sec: 1, nsec: 6 }) < 0);
  assert.ok(compareInstants({ sec: 2, nsec: 0 }, { sec: 1, nsec: 999999999 }) > 0);
  assert.equal(compareInstants({ sec: 2, nsec: 3 }, { sec: 2, nsec: 3 }), 0);
});
