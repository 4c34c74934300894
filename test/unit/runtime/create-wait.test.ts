// The pure parts of waiting for conmon: its sync line, the runtime's JSON log, and the wait
// itself driven by a real pipe and a real short-lived process (no conmon involved).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import {
  awaitCreate,
  createFailure,
  parseSyncLine,
  runtimeLogErrors,
} from '../../../src/runtime/create-wait.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-cw-'));
after(() => fsp.rm(dir, { recursive: true, force: true }));

test('sync lines: API 1 data, legacy pid, failure message, garbage', () => {
  assert.deepEqual(parseSyncLine('{"data": 42}'), { pid: 42 });
  assert.deepEqual(parseSyncLine('{"pid": 7}\n'), { pid: 7 });
  assert.deepEqual(parseSyncLine('{"data": -1, "message": "boom"}'), { pid: -1, message: 'boom' });
  assert.deepEqual(parseSyncLine(''), {});
  assert.match(parseSyncLine('{"data": 4').message ?? '', /unreadable sync message/);
});

test('runtime log: error levels only, plain-text errors kept', () => {
  const log = [
    '{"level":"info","msg":"fine"}',
    '{"level":"error","msg":"runc create failed: x"}',
    '{"level":"warning","msg":"meh"}',
    '{"level":"fatal","msg":"dead"}',
    'plain error: no json',
    '',
  ].join('\n');
  assert.deepEqual(runtimeLogErrors(log), ['runc create failed: x', 'dead', 'plain error: no json']);
  assert.deepEqual(runtimeLogErrors(''), []);
});

function fakeChild(code: number) {
  // A real process whose exit code plays the spawned conmon's.
  return spawn(process.execPath, ['-e', `process.exit(${code})`], { stdio: 'ignore' });
}

test('a pid split across chunks is read whole', async () => {
  const pipe = new PassThrough();
  const o = awaitCreate({
    child: fakeChild(0),
    syncPipe: pipe,
    bundle: dir,
    runtimeLog: path.join(dir, 'none.log'),
    conmonPidFile: path.join(dir, 'none.pid'),
    timeoutMs: 5000,
  });
  pipe.write('{"da');
  setTimeout(() => pipe.write('ta": 1234}\n'), 30);
  assert.deepEqual(await o, { pid: 1234 });
});

test('a closed pipe without a pid ends the wait at once with the runtime log error', async () => {
  const log = path.join(dir, 'rt1.log');
  await fsp.writeFile(log, '{"level":"error","msg":"runc create failed: nope"}\n');
  const pipe = new PassThrough();
  const t0 = Date.now();
  const o = awaitCreate({
    child: fakeChild(0),
    syncPipe: pipe,
    bundle: dir,
    runtimeLog: log,
    conmonPidFile: path.join(dir, 'none.pid'),
    timeoutMs: 10_000,
  });
  pipe.end();
  const r = await o;
  assert.ok(Date.now() - t0 < 2000);
  assert.ok(!('pid' in r));
  assert.equal(createFailure(r).text, 'runc create failed: nope');
});

test('an error in the runtime log ends the wait after the grace, while the pipe stays open', async () => {
  const log = path.join(dir, 'rt2.log');
  await fsp.writeFile(log, '{"level":"error","msg":"stuck but failed"}\n');
  const t0 = Date.now();
  const r = await awaitCreate({
    child: fakeChild(0),
    syncPipe: new PassThrough(),
    bundle: dir,
    runtimeLog: log,
    conmonPidFile: path.join(dir, 'none.pid'),
    timeoutMs: 10_000,
    pollMs: 20,
    graceMs: 100,
  });
  assert.ok(Date.now() - t0 < 2000);
  assert.ok(!('pid' in r));
  assert.equal(createFailure(r).text, 'stuck but failed');
});

test('a dead monitor ends the wait; a failing conmon too', async () => {
  const pidFile = path.join(dir, 'dead.pid');
  const gone = fakeChild(0);
  await new Promise((r) => gone.on('exit', r));
  await fsp.writeFile(pidFile, String(gone.pid));
  const r = await awaitCreate({
    child: fakeChild(0),
    syncPipe: new PassThrough(),
    bundle: dir,
    runtimeLog: path.join(dir, 'none.log'),
    conmonPidFile: pidFile,
    timeoutMs: 10_000,
    pollMs: 20,
  });
  assert.ok(!('pid' in r));
  assert.match(createFailure(r).text, /conmon died without reporting/);
  const r2 = await awaitCreate({
    child: fakeChild(3),
    syncPipe: new PassThrough(),
    bundle: dir,
    runtimeLog: path.join(dir, 'none.log'),
    conmonPidFile: path.join(dir, 'none.pid'),
    timeoutMs: 10_000,
  });
  assert.match(createFailure(r2 as never).text, /conmon exited with status 3/);
});

test('the timeout is the last resort and says so', async () => {
  const r = await awaitCreate({
    child: fakeChild(0),
    syncPipe: new PassThrough(),
    bundle: dir,
    runtimeLog: path.join(dir, 'none.log'),
    conmonPidFile: path.join(dir, 'none.pid'),
    timeoutMs: 200,
  });
  const f = createFailure(r as never);
  assert.equal(f.timedOut, true);
  assert.match(f.text, /within 0\.2s; processes: conmon wrote no pid file; runtime log: \(empty\)/);
});
