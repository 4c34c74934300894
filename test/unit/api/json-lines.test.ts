import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withProgressDetail } from '../../../src/api/streams/json-lines.ts';

test('per-layer statuses carry an empty progressDetail in Docker key order; others are left as they are', () => {
  assert.equal(
    JSON.stringify(withProgressDetail({ status: 'Pull complete', id: 'abc123' })),
    '{"status":"Pull complete","progressDetail":{},"id":"abc123"}',
  );
  const counted = { status: 'Downloading', id: 'abc123', progressDetail: { current: 1, total: 2 } };
  assert.equal(withProgressDetail(counted), counted);
  const summary = { status: 'Digest: sha256:00' };
  assert.equal(JSON.stringify(withProgressDetail(summary)), '{"status":"Digest: sha256:00"}');
});
