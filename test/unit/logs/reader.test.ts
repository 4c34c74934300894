// readLogs: tail (across P records, interleaved streams, large files), since/until, stream
// selection, torn last lines and `exited`, option checks.
import assert from 'node:assert/strict';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  promises as fsp,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';
import { type LogRecord, parseK8sFile, readLogBatches, readLogs } from '../../../src/logs/index.ts';
import { collect, line, texts, ts, unix } from './helpers.ts';

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'berth-logs-'));
});
after(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function file(content: string | Buffer): string {
  const f = path.join(dir, `log-${n++}.log`);
  writeFileSync(f, content);
  return f;
}

const fiveLines = [1, 2, 3, 4, 5]
  .map((i) => line(ts(i), i === 3 ? 'stderr' : 'stdout', 'F', `line${i}`))
  .join('');

test('reads every record in order by default', async () => {
  const got = await collect(readLogs(file(fiveLines)));
  assert.deepEqual(texts(got), [
    'stdout:line1\n',
    'stdout:line2\n',
    'stderr:line3\n',
    'stdout:line4\n',
    'stdout:line5\n',
  ]);
  assert.equal(got[0]!.time, ts(1));
});

test('tail: last n lines, 0, all, more than there are', async () => {
  const f = file(fiveLines);
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 2 }))), ['stdout:line4\n', 'stdout:line5\n']);
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 3 }))), [
    'stderr:line3\n',
    'stdout:line4\n',
    'stdout:line5\n',
  ]);
  assert.deepEqual(await collect(readLogs(f, { tail: 0 })), []);
  assert.equal((await collect(readLogs(f, { tail: 'all' }))).length, 5);
  assert.equal((await collect(readLogs(f, { tail: 100 }))).length, 5);
  assert.equal((await collect(readLogs(f, { tail: -1 }))).length, 5); // Docker: negative is all
  assert.deepEqual(await collect(readLogs(file(''), { tail: 3 })), []);
});

test('tail counts a line as its F record plus the P records before it', async () => {
  const f = file(
    [
      line(ts(1), 'stdout', 'F', 'old'),
      line(ts(2), 'stdout', 'P', 'a1 '),
      line(ts(3), 'stderr', 'F', 'err-between'),
      line(ts(4), 'stdout', 'P', 'a2 '),
      line(ts(5), 'stdout', 'F', 'a3'),
    ].join(''),
  );
  // The last line is stdout's "a1 a2 a3"; stderr's line ended earlier and is not in it.
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 1 }))), [
    'stdout:a1 ',
    'stdout:a2 ',
    'stdout:a3\n',
  ]);
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 2 }))), [
    'stdout:a1 ',
    'stderr:err-between\n',
    'stdout:a2 ',
    'stdout:a3\n',
  ]);
  assert.equal((await collect(readLogs(f, { tail: 3 }))).length, 5);
});

test('tail counts an unterminated last line, as tail -n does', async () => {
  const f = file(
    [
      line(ts(1), 'stdout', 'F', 'one'),
      line(ts(2), 'stdout', 'P', 'prompt: '),
      line(ts(3), 'stderr', 'F', 'e'),
    ].join(''),
  );
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 1 }))), ['stderr:e\n']);
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 2 }))), ['stdout:prompt: ', 'stderr:e\n']);
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 3 }))), [
    'stdout:one\n',
    'stdout:prompt: ',
    'stderr:e\n',
  ]);
});

test('tail skips garbage and ignores a torn last line unless the container exited', async () => {
  const f = file(
    [
      line(ts(1), 'stdout', 'F', 'one'),
      'garbage\n',
      line(ts(2), 'stdout', 'F', 'two'),
      'more garbage\n',
      `${ts(3)} stdout F torn`,
    ].join(''),
  );
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 1 }))), ['stdout:two\n']);
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 2 }))), ['stdout:one\n', 'stdout:two\n']);
  const exited = Promise.resolve();
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 1, exited }))), ['stdout:torn\n']);
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 2, exited }))), ['stdout:two\n', 'stdout:torn\n']);
});

test('a torn last line is only emitted once the container has exited', async () => {
  const f = file(`${line(ts(1), 'stdout', 'F', 'done')}${ts(2)} stderr P half`);
  assert.deepEqual(texts(await collect(readLogs(f))), ['stdout:done\n']);
  assert.deepEqual(texts(await collect(readLogs(f, { exited: Promise.resolve() }))), [
    'stdout:done\n',
    'stderr:half',
  ]);
  // A rejected exit promise means the same (the container is gone).
  const gone = Promise.reject(new Error('gone'));
  assert.equal((await collect(readLogs(f, { exited: gone }))).length, 2);
  // A pending one does not.
  assert.equal((await collect(readLogs(f, { exited: new Promise(() => {}) }))).length, 1);
});

/** Naive tail over parsed records, for comparison: lines by end position, newest n. */
function naiveTail(content: Buffer, tail: number, final: boolean): string[] {
  const recs: { r: LogRecord; full: boolean }[] = [];
  const all = parseK8sFile(content, { final });
  // parseK8sFile drops the F/P flag; an F record's data ends with '\n' (content cannot hold one).
  for (const r of all) recs.push({ r, full: r.data.at(-1) === 0x0a });
  const lines: { recs: number[]; end: number }[] = [];
  const open: Record<string, number[]> = { stdout: [], stderr: [] };
  recs.forEach(({ r, full }, i) => {
    open[r.stream]!.push(i);
    if (full) {
      lines.push({ recs: open[r.stream]!, end: i });
      open[r.stream] = [];
    }
  });
  for (const s of ['stdout', 'stderr']) {
    const o = open[s]!;
    if (o.length > 0) lines.push({ recs: o, end: o.at(-1)! });
  }
  lines.sort((a, b) => a.end - b.end);
  const keep = new Set(lines.slice(Math.max(0, lines.length - tail)).flatMap((l) => l.recs));
  return texts(recs.filter((_, i) => keep.has(i)).map((x) => x.r));
}

test('tail matches a naive count on a large file with long interleaved partial lines', async () => {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const parts: string[] = [];
  let size = 0;
  let i = 0;
  // ~3 MB: many 64 KiB backward chunks, records of every size up to 20 KB, runs of P records.
  while (size < 3_000_000) {
    const stream = rnd() < 0.3 ? 'stderr' : 'stdout';
    const tag = rnd() < 0.35 ? 'P' : 'F';
    const len = rnd() < 0.05 ? Math.floor(rnd() * 20000) : Math.floor(rnd() * 80);
    const content = `${i++}:${'y'.repeat(len)}`;
    const l = line(ts(i % 60, String(i).padStart(9, '0')), stream, tag, content);
    parts.push(l);
    size += l.length;
    if (rnd() < 0.01) parts.push('garbage\n');
  }
  parts.push(`${ts(59)} stdout P torn-tail`);
  const content = Buffer.from(parts.join(''));
  const f = file(content);
  for (const tail of [0, 1, 2, 3, 7, 50, 400, 5000]) {
    const got = texts(await collect(readLogs(f, { tail })));
    assert.deepEqual(
      got,
      naiveTail(content.subarray(0, content.lastIndexOf(0x0a) + 1), tail, false),
      `tail ${tail}`,
    );
    const gotFinal = texts(await collect(readLogs(f, { tail, exited: Promise.resolve() })));
    assert.deepEqual(gotFinal, naiveTail(content, tail, true), `tail ${tail} after exit`);
  }
});

test('tail of a huge file reads only its end', async () => {
  // A sparse 8 GiB file (no disk used) whose last bytes are records: reading it all would take
  // minutes, and the zeros are one endless garbage "line" a forward reader would have to hold.
  const f = path.join(dir, 'huge.log');
  const fd = openSync(f, 'w');
  ftruncateSync(fd, 8 * 1024 ** 3);
  const tail = [1, 2, 3, 4].map((i) => line(ts(i), 'stdout', i === 2 ? 'P' : 'F', `last${i}`)).join('');
  writeSync(fd, `\n${tail}`, 8 * 1024 ** 3);
  closeSync(fd);
  const t = performance.now();
  const got = await collect(readLogs(f, { tail: 2 }));
  const ms = performance.now() - t;
  assert.deepEqual(texts(got), ['stdout:last2', 'stdout:last3\n', 'stdout:last4\n']);
  assert.ok(ms < 2000, `tail of 8 GiB took ${ms.toFixed(0)} ms`);
  await fsp.rm(f);
});

test('since and until filter by record time (both inclusive; 0 means unset)', async () => {
  const f = file(
    [
      line(ts(1, '250000000'), 'stdout', 'F', 'a'),
      line(ts(2, '500000000'), 'stdout', 'F', 'b'),
      line(ts(3, '750000000'), 'stderr', 'F', 'c'),
      line(ts(4), 'stdout', 'F', 'd'),
      line('2026-11-22T09:23:05.000000000+02:00', 'stdout', 'F', 'e-with-offset'),
    ].join(''),
  );
  const read = async (o: Parameters<typeof readLogs>[1]) =>
    texts(await collect(readLogs(f, o))).map((s) => s.trim());
  assert.deepEqual(await read({ since: unix(2, '500000000') }), [
    'stdout:b',
    'stderr:c',
    'stdout:d',
    'stdout:e-with-offset',
  ]);
  assert.deepEqual(await read({ since: unix(2, '600000000') }), [
    'stderr:c',
    'stdout:d',
    'stdout:e-with-offset',
  ]);
  assert.deepEqual(await read({ until: unix(3, '750000000') }), ['stdout:a', 'stdout:b', 'stderr:c']);
  assert.deepEqual(await read({ since: unix(2), until: unix(4) }), ['stdout:b', 'stderr:c', 'stdout:d']);
  assert.deepEqual(await read({ since: unix(5) }), ['stdout:e-with-offset']);
  assert.deepEqual(await read({ since: 0, until: 0 }), [
    'stdout:a',
    'stdout:b',
    'stderr:c',
    'stdout:d',
    'stdout:e-with-offset',
  ]);
  assert.deepEqual(await read({ since: unix(9) }), []);
  // tail first, then the time filter (as Docker does).
  assert.deepEqual(await read({ tail: 2, since: unix(1) }), ['stdout:d', 'stdout:e-with-offset']);
  assert.deepEqual(await read({ tail: 3, until: unix(3) }), []);
});

test('stream selection', async () => {
  const f = file(fiveLines);
  assert.deepEqual(texts(await collect(readLogs(f, { stderr: true }))), ['stderr:line3\n']);
  assert.deepEqual(texts(await collect(readLogs(f, { stdout: true, stderr: false }))).length, 4);
  assert.equal((await collect(readLogs(f, { stdout: true, stderr: true }))).length, 5);
  // tail counts the lines of both streams (Docker counts its log file's entries), then selects.
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 3, stderr: true }))), ['stderr:line3\n']);
  assert.deepEqual(texts(await collect(readLogs(f, { tail: 2, stderr: true }))), []);
});

test('rejects bad options synchronously with InvalidArgumentError', () => {
  const f = path.join(dir, 'whatever.log');
  const bad: Parameters<typeof readLogs>[1][] = [
    { stdout: false, stderr: false },
    { stdout: false },
    { tail: 1.5 },
    { tail: Number.NaN },
    { tail: 'some' as unknown as number },
    { since: -1 },
    { until: Number.POSITIVE_INFINITY },
    { since: Number.NaN },
  ];
  for (const o of bad) {
    assert.throws(() => readLogs(f, o), InvalidArgumentError, JSON.stringify(o));
    assert.throws(() => readLogBatches(f, o), InvalidArgumentError);
  }
});

test('a missing file reads as empty; an aborted signal ends at once', async () => {
  assert.deepEqual(await collect(readLogs(path.join(dir, 'nope.log'))), []);
  const ac = new AbortController();
  ac.abort();
  assert.deepEqual(await collect(readLogs(file(fiveLines), { signal: ac.signal, follow: true })), []);
});

test('stopping early closes the file', async () => {
  const f = file(fiveLines.repeat(50000)); // several chunks
  const fds = async () => (await fsp.readdir('/proc/self/fd')).length;
  const before = await fds();
  for (let i = 0; i < 5; i++) {
    for await (const r of readLogs(f)) {
      assert.ok(r);
      break;
    }
  }
  assert.equal(await fds(), before);
});

test('batches hold the same records as readLogs', async () => {
  const f = file(fiveLines.repeat(20000));
  const flat: LogRecord[] = [];
  for await (const b of readLogBatches(f)) flat.push(...b);
  assert.equal(flat.length, 100000);
  assert.deepEqual(texts(flat.slice(0, 5)), texts(await collect(readLogs(file(fiveLines)))));
});

test('startOffset: records from that offset on (whole records), tail ignored; a smaller file from its start', async () => {
  const first = line(ts(1), 'stdout', 'F', 'before');
  const f = file(`${first}${line(ts(2), 'stdout', 'F', 'after1')}${line(ts(3), 'stderr', 'F', 'after2')}`);
  // What attach does: the size taken when it answered, then records written since.
  assert.deepEqual(texts(await collect(readLogs(f, { startOffset: first.length, tail: 0 }))), [
    'stdout:after1\n',
    'stderr:after2\n',
  ]);
  // An offset inside a record starts at that record's beginning.
  assert.deepEqual(texts(await collect(readLogs(f, { startOffset: first.length + 5 }))), [
    'stdout:after1\n',
    'stderr:after2\n',
  ]);
  // Past the end (the file was replaced by a shorter one): from the start.
  assert.equal((await collect(readLogs(f, { startOffset: 1 << 20 }))).length, 3);
  assert.throws(() => readLogs(f, { startOffset: -1 }), InvalidArgumentError);
});
