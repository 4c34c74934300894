// kill -9 of berthd while it holds a container paused for its own work (commit's pause, the
// freeze of `docker cp`): the next start resumes the container, and a commit cut short leaves
// no image and no layer behind.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { crashed } from '../helpers/leaks.ts';

const h = useBusyboxDaemon();

async function runcStatus(id: string): Promise<string> {
  const r = await run('runc', ['--root', path.join(h.d.dir, 'exec', 'runc'), 'state', id]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { status: string }).status : `none (${r.stderr.trim()})`;
}

async function layerDirs(): Promise<string[]> {
  return (await fsp.readdir(path.join(h.d.dataRoot, 'layers')))
    .filter((n) => /^[a-f0-9]{64}$/.test(n))
    .sort();
}

async function assertRunningAndServing(id: string, what: string): Promise<void> {
  assert.equal(ok(await h.d.docker(['inspect', '-f', '{{.State.Status}}', id])).trim(), 'running', what);
  assert.equal(await runcStatus(id), 'running', what);
  // A frozen container would hang here.
  const r = await h.d.docker(['exec', id, 'echo', 'alive'], { timeoutMs: 10_000 });
  assert.equal(r.stdout.trim(), 'alive', `${what}: ${r.stderr}`);
}

test('a commit cut short by a crash leaves the container running, no image and no layer', async () => {
  const id = ok(await h.d.docker(['run', '-d', 'busybox', 'sh', '-c', 'echo x > /made && sleep 300'])).trim();
  const layersBefore = await layerDirs();
  const imagesBefore = ok(await h.d.docker(['images', '-aq'])).trim();
  for (const step of ['commit:after-pause', 'commit:after-layer', 'commit:after-config']) {
    h.d = await h.d.restart({ env: { BERTH_CRASH_AT: step } });
    const r = await h.d.docker(['commit', id, `snap:${step.split(':')[1]}`], { timeoutMs: 20_000 });
    assert.notEqual(r.code, 0, step);
    await crashed(h.d);
    // What the crash left: the container frozen.
    assert.equal(await runcStatus(id), 'paused', `${step}: the crash should leave it frozen`);

    h.d = await h.d.restart();
    await assertRunningAndServing(id, step);
    assert.equal(ok(await h.d.docker(['images', '-aq'])).trim(), imagesBefore, step);
    assert.deepEqual(await layerDirs(), layersBefore, step);
  }
  // And commit works afterwards.
  ok(await h.d.docker(['commit', id, 'snap:done']));
  await assertRunningAndServing(id, 'after a good commit');
  ok(await h.d.docker(['rm', '-f', id]));
});

test('a user pause survives a restart; a cp freeze cut short does not', async () => {
  const id = ok(await h.d.docker(['run', '-d', 'busybox', 'sleep', '300'])).trim();
  ok(await h.d.docker(['pause', id]));
  h.d = await h.d.restart();
  assert.equal(ok(await h.d.docker(['inspect', '-f', '{{.State.Status}}', id])).trim(), 'paused');
  ok(await h.d.docker(['unpause', id]));

  h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'freeze:after-pause' } });
  const r = await h.d.docker(['cp', `${id}:/etc/hostname`, path.join(h.d.dir, 'out')], { timeoutMs: 20_000 });
  assert.notEqual(r.code, 0);
  await crashed(h.d);
  assert.equal(await runcStatus(id), 'paused');
  h.d = await h.d.restart();
  await assertRunningAndServing(id, 'after a cp freeze cut short');
  ok(await h.d.docker(['rm', '-f', id]));
});
