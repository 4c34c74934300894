// The plan a LogConfig turns into: Docker's per-driver defaults (local rotates 20 MiB × 5,
// compressed; json-file keeps one unbounded file), the options that override them, and the
// combinations Docker refuses, each with its message; `none` keeps no file at all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planLogging } from '../../../src/logs/drivers/registry.ts';

const MiB = 1024 * 1024;

test('local rotates by default as Docker: 20 MiB files, five kept, rotated ones compressed', () => {
  const p = planLogging('local', {});
  assert.equal(p.maxSize, 20 * MiB);
  assert.equal(p.maxFiles, 5);
  assert.equal(p.compress, true);
  assert.equal(p.readable, true);
  assert.equal(p.localFile, true);
  // Each default gives way to the option alone.
  assert.deepEqual(
    (({ maxSize, maxFiles, compress }) => ({ maxSize, maxFiles, compress }))(
      planLogging('local', { 'max-size': '1m' }),
    ),
    { maxSize: MiB, maxFiles: 5, compress: true },
  );
  const files = planLogging('local', { 'max-file': '3' });
  assert.equal(files.maxSize, 20 * MiB);
  assert.equal(files.maxFiles, 3);
  assert.equal(planLogging('local', { compress: 'false' }).compress, false);
  // One file and nothing to compress: allowed only with compress=false (Docker's check).
  const one = planLogging('local', { 'max-file': '1', compress: 'false' });
  assert.equal(one.maxFiles, 1);
  assert.equal(one.maxSize, 20 * MiB);
  assert.throws(
    () => planLogging('local', { 'max-file': '1' }, 'create'),
    /compression cannot be enabled when max file count is 1/,
  );
  // A container stored before that check keeps working: one file, nothing to compress.
  const stored = planLogging('local', { 'max-file': '1' });
  assert.equal(stored.maxFiles, 1);
  assert.equal(stored.compress, false);
});

test('json-file and k8s-file keep one unbounded file unless asked; none keeps nothing', () => {
  for (const d of ['json-file', 'k8s-file']) {
    const p = planLogging(d, {});
    assert.equal(p.maxSize, undefined, d);
    assert.equal(p.maxFiles, 1, d);
    assert.equal(p.compress, false, d);
  }
  const rotated = planLogging('json-file', { 'max-size': '10m', 'max-file': '3' });
  assert.equal(rotated.maxSize, 10 * MiB);
  assert.equal(rotated.maxFiles, 3);
  assert.equal(rotated.compress, false);
  assert.throws(
    () => planLogging('json-file', { compress: 'true' }, 'create'),
    /compress cannot be true when max-file is less than 2 or max-size is not set/,
  );
  const none = planLogging('none', {});
  assert.equal(none.localFile, false);
  assert.equal(none.readable, false);
  assert.equal(none.maxSize, undefined);
  assert.throws(
    () => planLogging('none', { 'max-size': '1m' }),
    /unknown log opt 'max-size' for none log driver/,
  );
});
