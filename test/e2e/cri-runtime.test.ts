// The CRI endpoint through a grpc client: Version, Status, RuntimeConfig, and UNIMPLEMENTED
// (with a message) for what berthd does not serve yet.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type CriDaemon, startCriDaemon } from '../helpers/cri.ts';

let cri: CriDaemon;
before(async () => {
  cri = await startCriDaemon();
});
after(async () => {
  await cri?.cleanup();
});

test('Version names berth and the v1 API', async () => {
  const v = await cri.runtime('Version', { version: 'v1' });
  assert.equal(v.runtime_name, 'berth');
  assert.equal(v.runtime_api_version, 'v1');
  assert.match(v.runtime_version, /^\d+\.\d+\.\d+/);
});

test('Status: runtime ready, network not ready until CNI sandboxes exist', async () => {
  const s = await cri.runtime('Status', {});
  const byType = Object.fromEntries(s.status.conditions.map((c: { type: string }) => [c.type, c]));
  assert.equal(byType.RuntimeReady.status, true);
  assert.equal(byType.NetworkReady.status, false);
});

test('RuntimeConfig reports the cgroupfs driver', async () => {
  const r = await cri.runtime('RuntimeConfig', {});
  assert.equal(r.linux.cgroup_driver, 'CGROUPFS');
});

test('methods not served yet answer UNIMPLEMENTED with a message', async () => {
  await assert.rejects(cri.runtime('CheckpointContainer', {}), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    assert.match(err.details, /CheckpointContainer is not implemented/);
    return true;
  });
});

test('the socket is removed when berthd stops', async () => {
  assert.ok(existsSync(cri.socket));
  await cri.d.stop();
  assert.equal(existsSync(cri.socket), false);
});
