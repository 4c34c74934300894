// berthd --trace: a `docker run --rm` leaves records whose steps name the start path (HTTP,
// overlay mount, bundle, runc), and tracing off refuses the read-out with the fix.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

interface Rec {
  id: number;
  label: string;
  ms: number;
  spans: { name: string; ms: number; depth: number }[];
}

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon({ env: { BERTH_TRACE: '1' } });
  const r = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'local/trace:1']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await d?.cleanup();
});

describe('trace', () => {
  test('docker run --rm is recorded step by step', async () => {
    const r = await d.docker(['run', '--rm', '--network', 'none', 'local/trace:1', 'true']);
    assert.equal(r.code, 0, r.stderr);
    const res = await d.request('GET', '/_berth/trace');
    assert.equal(res.status, 200);
    const { records } = JSON.parse(res.body.toString()) as { records: Rec[] };
    const labels = records.map((x) => x.label);
    assert.ok(labels.includes('POST /containers/create'), labels.join(', '));
    assert.ok(labels.includes('POST /containers/:id/start'), labels.join(', '));
    const start = records.find((x) => x.label === 'POST /containers/:id/start')!;
    const names = start.spans.map((s) => s.name);
    for (const step of [
      'containers.start',
      'rootfs.overlay-mount',
      'bundle.config-write',
      'runtime.create',
      'runtime.start',
    ])
      assert.ok(names.includes(step), `${step} missing from ${names.join(', ')}`);
    // berthd starts plain runc through its exec fifo itself; other runtimes spawn `runc start`.
    assert.ok(
      names.includes('runtime.exec-fifo') || names.includes('spawn.runc start'),
      `neither runtime.exec-fifo nor spawn.runc start in ${names.join(', ')}`,
    );
    assert.ok(start.ms > 0);
    // The exit is handled outside any request: its own record.
    assert.ok(
      records.some((x) => x.spans.some((s) => s.name === 'containers.handleExit')),
      'no containers.handleExit span',
    );
    // since= skips what was read.
    const last = Math.max(...records.map((x) => x.id));
    const later = await d.request('GET', `/_berth/trace?since=${last}`);
    const rest = (JSON.parse(later.body.toString()) as { records: Rec[] }).records;
    assert.ok(rest.every((x) => x.id > last));
  });
});

describe('trace off', () => {
  test('the read-out says how to turn it on', async () => {
    const off = await startTestDaemon();
    try {
      const res = await off.request('GET', '/_berth/trace');
      assert.equal(res.status, 400);
      assert.match(res.body.toString(), /--trace or BERTH_TRACE=1/);
    } finally {
      await off.cleanup();
    }
  });
});
