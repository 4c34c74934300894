// readLogs with follow: appends (whole and torn lines), the end of the container (`exited`),
// truncation in place and conmon-style rotation (a new file renamed over the log), a log that
// does not exist yet. Every wait is bounded and every follower is aborted.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  promises as fsp,
  renameSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type LogRecord, type ReadLogsOptions, readLogs } from '../../../src/logs/index.ts';
import { line, rest, sleep, take, texts, ts, unix } from './helpers.ts';

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'berth-logs-follow-'));
});
after(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const L = (i: number, stream: 'stdout' | 'stderr' = 'stdout') => line(ts(i % 60), stream, 'F', `line${i}`);

/** Starts a follower; the test must call stop(). */
function follow(file: string, opts: ReadLogsOptions = {}) {
  const ac = new AbortController();
  const it = readLogs(file, { follow: true, signal: ac.signal, ...opts })[Symbol.asyncIterator]();
  return {
    it,
    async stop(): Promise<LogRecord[]> {
      ac.abort();
      return rest(it, 3000);
    },
  };
}

function newFile(content = ''): string {
  const f = path.join(dir, `c${n++}`, 'ctr.log');
  mkdirSync(path.dirname(f), { recursive: true });
  if (content !== '') writeFileSync(f, content);
  return f;
}

test('follow: existing records, then appends as they are written', async () => {
  const f = newFile(L(1) + L(2));
  const fl = follow(f);
  try {
    assert.deepEqual(texts(await take(fl.it, 2)), ['stdout:line1\n', 'stdout:line2\n']);
    appendFileSync(f, L(3, 'stderr'));
    assert.deepEqual(texts(await take(fl.it, 1)), ['stderr:line3\n']);
    // A record written in two pieces is passed on only once complete.
    // The follower is waiting (and polling) while the pieces arrive.
    const next = take(fl.it, 2);
    const rec = L(4);
    appendFileSync(f, rec.slice(0, 20));
    await sleep(300);
    appendFileSync(f, rec.slice(20, 50));
    await sleep(300);
    appendFileSync(f, rec.slice(50) + L(5));
    assert.deepEqual(texts(await next), ['stdout:line4\n', 'stdout:line5\n']);
  } finally {
    assert.deepEqual(await fl.stop(), []);
  }
});

test('follow: ends after draining once the container has exited, torn last line included', async () => {
  const f = newFile(L(1));
  let exit!: () => void;
  const exited = new Promise<void>((r) => {
    exit = r;
  });
  const fl = follow(f, { exited });
  try {
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line1\n']);
    appendFileSync(f, `${L(2)}${ts(3)} stderr P no newline`);
    exit();
    assert.deepEqual(texts(await rest(fl.it)), ['stdout:line2\n', 'stderr:no newline']);
  } finally {
    await fl.stop();
  }
});

test('follow: an exit that already happened means read to the end and stop', async () => {
  const f = newFile(L(1) + L(2));
  const fl = follow(f, { exited: Promise.resolve() });
  try {
    assert.deepEqual(texts(await rest(fl.it)), ['stdout:line1\n', 'stdout:line2\n']);
  } finally {
    await fl.stop();
  }
});

test('follow: tail, then new records', async () => {
  const f = newFile(L(1) + L(2) + L(3));
  const fl = follow(f, { tail: 1 });
  try {
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line3\n']);
    appendFileSync(f, L(4));
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line4\n']);
  } finally {
    await fl.stop();
  }
});

test('follow: tail 0 shows only what is written afterwards', async () => {
  const f = newFile(L(1) + L(2));
  const fl = follow(f, { tail: 0 });
  try {
    const next = take(fl.it, 1); // the follower starts reading at the first next()
    await sleep(100);
    appendFileSync(f, L(3));
    assert.deepEqual(texts(await next), ['stdout:line3\n']);
  } finally {
    assert.deepEqual(await fl.stop(), []);
  }
});

test('follow: the file truncated in place is read again from its start', async () => {
  const f = newFile(L(1) + L(2) + L(3));
  const fl = follow(f);
  try {
    assert.equal((await take(fl.it, 3)).length, 3);
    truncateSync(f, 0);
    appendFileSync(f, L(4));
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line4\n']);
    appendFileSync(f, L(5));
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line5\n']);
  } finally {
    assert.deepEqual(await fl.stop(), []);
  }
});

test('follow: conmon-style rotation loses and repeats nothing', async () => {
  // conmon at --log-size-max: closes the log, creates <log>.tmp, renames it over the log.
  const f = newFile(L(1));
  const fl = follow(f);
  try {
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line1\n']);
    // Written to the old file right before the rotation, not yet read by the follower.
    appendFileSync(f, L(2) + L(3));
    writeFileSync(`${f}.tmp`, L(4));
    renameSync(`${f}.tmp`, f);
    assert.deepEqual(texts(await take(fl.it, 3)), ['stdout:line2\n', 'stdout:line3\n', 'stdout:line4\n']);
    appendFileSync(f, L(5));
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line5\n']);
    // Several rotations in a row, each file read to its end.
    for (let i = 6; i < 12; i++) {
      writeFileSync(`${f}.tmp`, L(i));
      renameSync(`${f}.tmp`, f);
      assert.deepEqual(texts(await take(fl.it, 1)), [`stdout:line${i}\n`]);
    }
  } finally {
    assert.deepEqual(await fl.stop(), []);
  }
});

test('follow: tail applies to the first file only, not to files after a rotation', async () => {
  const f = newFile(L(1) + L(2) + L(3));
  const fl = follow(f, { tail: 1 });
  try {
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line3\n']);
    writeFileSync(`${f}.tmp`, L(4) + L(5));
    renameSync(`${f}.tmp`, f);
    assert.deepEqual(texts(await take(fl.it, 2)), ['stdout:line4\n', 'stdout:line5\n']);
  } finally {
    await fl.stop();
  }
});

test('follow: waits for a log that does not exist yet', async () => {
  const f = newFile();
  const fl = follow(f);
  try {
    await sleep(100);
    writeFileSync(f, L(1));
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line1\n']);
  } finally {
    await fl.stop();
  }
});

test('follow: since/until and stream selection still apply; a past until ends the follow', async () => {
  const f = newFile(L(1) + L(2, 'stderr'));
  const fl = follow(f, { stderr: true, since: unix(2) });
  try {
    assert.deepEqual(texts(await take(fl.it, 1)), ['stderr:line2\n']);
    appendFileSync(f, L(3) + L(4, 'stderr'));
    assert.deepEqual(texts(await take(fl.it, 1)), ['stderr:line4\n']);
  } finally {
    await fl.stop();
  }
  const past = follow(f, { until: unix(1) });
  try {
    assert.deepEqual(texts(await rest(past.it)), ['stdout:line1\n']);
  } finally {
    await past.stop();
  }
});

test('follow: abort ends a follower that is waiting', async () => {
  const f = newFile(L(1));
  const ac = new AbortController();
  const it = readLogs(f, { follow: true, signal: ac.signal })[Symbol.asyncIterator]();
  assert.equal((await take(it, 1)).length, 1);
  const pending = it.next();
  setTimeout(() => ac.abort(), 50);
  const t = performance.now();
  const r = await pending;
  assert.equal(r.done, true);
  assert.ok(performance.now() - t < 1000);
});

test('follow: without change notifications, the poll still sees appends, truncation and rotation', async () => {
  const f = newFile(L(1));
  const fl = follow(f, { watch: false, pollIntervalMs: 50 });
  try {
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line1\n']);
    appendFileSync(f, L(2));
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line2\n']);
    writeFileSync(`${f}.tmp`, L(3));
    renameSync(`${f}.tmp`, f);
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line3\n']);
    truncateSync(f, 0);
    appendFileSync(f, L(4));
    assert.deepEqual(texts(await take(fl.it, 1)), ['stdout:line4\n']);
  } finally {
    assert.deepEqual(await fl.stop(), []);
  }
});

test('overlapping next() calls get every record once, in order', async () => {
  const f = newFile(L(1) + L(2) + L(3));
  const it = readLogs(f)[Symbol.asyncIterator]();
  const results = await Promise.all([it.next(), it.next(), it.next(), it.next()]);
  assert.deepEqual(
    results.map((r) => (r.done ? 'done' : r.value.data.toString())),
    ['line1\n', 'line2\n', 'line3\n', 'done'],
  );
});
