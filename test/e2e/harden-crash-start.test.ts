// kill -9 of berthd in the middle of `start` (BERTH_CRASH_AT crash points): the next start
// removes a --rm container that is not running, as Docker's restore does, rolls a plain one
// back to what it was, and leaves no mount, runc state, monitor, process, cgroup, netns, veth
// or iptables rule of the cut-short start behind.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { addressesOf, crashed, leftovers } from '../helpers/leaks.ts';

const h = useBusyboxDaemon();

async function containersOnDisk(): Promise<string[]> {
  return (await fsp.readdir(path.join(h.d.dataRoot, 'containers'))).filter((n) => /^[a-f0-9]{64}$/.test(n));
}

test('a --rm container whose start was cut short is removed at the next start, leaving nothing', async () => {
  for (const step of [
    'start:after-network',
    'start:after-rootfs',
    'start:after-create',
    'start:before-record',
  ]) {
    h.d = await h.d.restart({ env: { BERTH_CRASH_AT: step } });
    const r = await h.d.docker(['run', '--rm', 'busybox', 'sleep', '30'], { timeoutMs: 20_000 });
    assert.notEqual(r.code, 0, `${step}: run should fail when the daemon dies`);
    await crashed(h.d);
    const ids = await containersOnDisk();
    assert.equal(ids.length, 1, step);
    const ips = await addressesOf(h.d, ids[0]!);
    assert.notDeepEqual(
      await leftovers(h.d, ids, ips),
      [],
      `${step}: the crash should leave something to repair`,
    );

    h.d = await h.d.restart();
    assert.equal(ok(await h.d.docker(['ps', '-aq'])).trim(), '', `${step}: the --rm container stays`);
    assert.deepEqual(await containersOnDisk(), [], step);
    assert.deepEqual(await leftovers(h.d, ids, ips), [], step);
  }
});

test('a plain container whose start was cut short is back to created and starts again', async () => {
  const id = ok(await h.d.docker(['create', 'busybox', 'sleep', '30'])).trim();
  h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'start:before-record' } });
  const ips = await addressesOf(h.d, id);
  const r = await h.d.docker(['start', id], { timeoutMs: 20_000 });
  assert.notEqual(r.code, 0);
  await crashed(h.d);

  h.d = await h.d.restart();
  assert.equal(ok(await h.d.docker(['inspect', '-f', '{{.State.Status}}', id])).trim(), 'created');
  assert.deepEqual(await leftovers(h.d, [id], ips), []);
  ok(await h.d.docker(['start', id]));
  assert.equal(ok(await h.d.docker(['inspect', '-f', '{{.State.Running}}', id])).trim(), 'true');
  ok(await h.d.docker(['rm', '-f', id]));
  assert.deepEqual(await leftovers(h.d, [id], ips), []);
});

test('a --rm container that exited is removed at the next start when berthd died before removing it', async () => {
  // The exit of a --rm container is kept in memory only (the removal that follows commits):
  // a crash between the two leaves a `running` record with no process, exit file or runtime
  // state, which the next start settles and removes.
  h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'exit:before-autoremove' } });
  const r = await h.d.docker(['run', '--rm', 'busybox', 'true'], { timeoutMs: 20_000 });
  assert.notEqual(r.code, 0, 'run should fail when the daemon dies');
  await crashed(h.d);
  const ids = await containersOnDisk();
  assert.equal(ids.length, 1);
  const onDisk = JSON.parse(
    await fsp.readFile(path.join(h.d.dataRoot, 'containers', ids[0]!, 'config.v2.json'), 'utf8'),
  ) as { state: { status: string } };
  assert.equal(onDisk.state.status, 'running', 'the exit of a --rm container is not written');
  const ips = await addressesOf(h.d, ids[0]!);

  h.d = await h.d.restart();
  assert.equal(ok(await h.d.docker(['ps', '-aq'])).trim(), '');
  assert.deepEqual(await containersOnDisk(), []);
  assert.deepEqual(await leftovers(h.d, ids, ips), []);
  // And a --rm run still works and reports its exit status.
  const again = await h.d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(again.code, 3, again.stderr);
  assert.deepEqual(await containersOnDisk(), []);
});
