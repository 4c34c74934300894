// Integer query parameters (`t`, `limit`, `shmsize`) read as Go's strconv.Atoi reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intParam } from '../../../src/api/http.ts';

test('digits only, exactly representable', () => {
  const q = (v: string) => new URLSearchParams({ t: v });
  assert.equal(intParam(q('10'), 't'), 10);
  assert.equal(intParam(q('-1'), 't'), -1);
  assert.equal(intParam(new URLSearchParams(), 't'), undefined);
  for (const bad of ['1e3', '0x10', '1.5', ' 1', '99999999999999999999', 'Infinity', 'abc'])
    assert.throws(() => intParam(q(bad), 't'), /invalid value for t/, bad);
});
