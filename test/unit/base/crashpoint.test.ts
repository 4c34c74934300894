// crashPoint: a no-op unless BERTH_CRASH_AT names the step; then the process dies of SIGKILL
// right there, before the next statement runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const MODULE = path.resolve(import.meta.dirname, '../../../src/base/crashpoint.ts');
const script = `import('${MODULE}').then(({ crashPoint }) => { crashPoint('a'); process.stdout.write('after-a;'); crashPoint('b'); process.stdout.write('after-b;'); });`;

function runWith(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

test('unset: every crash point is passed', () => {
  const r = runWith({ BERTH_CRASH_AT: '' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'after-a;after-b;');
});

test('named: the process is killed exactly at that step', () => {
  const r = runWith({ BERTH_CRASH_AT: 'b' });
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(r.stdout, 'after-a;');
  assert.match(r.stderr, /crash point b/);
});
