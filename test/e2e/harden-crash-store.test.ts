// kill -9 of berthd between the steps of image delete, volume create / rm and a build step's
// commit: the next start finishes or rolls back each, so no untagged image, half volume,
// stray layer, build container or temp directory is left.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { busyboxTar } from '../helpers/fixtures.ts';
import { makeContext, ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { crashed } from '../helpers/leaks.ts';

const h = useBusyboxDaemon();

async function layerDirs(): Promise<string[]> {
  return (await fsp.readdir(path.join(h.d.dataRoot, 'layers')))
    .filter((n) => /^[a-f0-9]{64}$/.test(n))
    .sort();
}

test('rmi cut short between the record and the names: the image is gone at the next start', async () => {
  for (const [i, args] of [['victim:1'], ['-f', 'ID']].entries()) {
    ok(await h.d.berth(['import', '-c', `CMD ["echo", "${i}"]`, busyboxTar(), 'victim:1']));
    ok(await h.d.docker(['tag', 'victim:1', 'victim:2']));
    const id = ok(await h.d.docker(['image', 'inspect', '-f', '{{.Id}}', 'victim:1'])).trim();
    if (args[0] === 'victim:1') ok(await h.d.docker(['rmi', 'victim:2']));
    h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'rmi:between-record-and-names' } });
    const r = await h.d.docker(['rmi', ...args.map((a) => (a === 'ID' ? id : a))], { timeoutMs: 20_000 });
    assert.notEqual(r.code, 0);
    await crashed(h.d);
    h.d = await h.d.restart();
    const all = ok(
      await h.d.docker(['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']),
    );
    assert.ok(!all.includes(id), `${args.join(' ')}: the image was to be deleted: ${all}`);
    assert.ok(!all.includes('victim'), all);
  }
});

test('volume create and rm cut short leave a whole volume or none', async () => {
  h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'volume-create:before-rename' } });
  assert.notEqual((await h.d.docker(['volume', 'create', 'half'], { timeoutMs: 20_000 })).code, 0);
  await crashed(h.d);
  h.d = await h.d.restart();
  assert.equal(ok(await h.d.docker(['volume', 'ls', '-q'])).trim(), '');
  ok(await h.d.docker(['volume', 'create', 'half']));

  h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'volume-rm:after-rename' } });
  assert.notEqual((await h.d.docker(['volume', 'rm', 'half'], { timeoutMs: 20_000 })).code, 0);
  await crashed(h.d);
  h.d = await h.d.restart();
  assert.equal(ok(await h.d.docker(['volume', 'ls', '-q'])).trim(), '');
  assert.deepEqual(await fsp.readdir(path.join(h.d.dataRoot, 'volumes')), []);
});

test('a build step commit cut short leaves no layer, container or temp dir', async () => {
  const ctx = await makeContext({ Dockerfile: 'FROM busybox\nRUN echo hi > /f\n' });
  try {
    const layersBefore = await layerDirs();
    const imagesBefore = ok(await h.d.docker(['images', '-aq'])).trim();
    for (const step of ['build:after-layer', 'build:after-config']) {
      h.d = await h.d.restart({ env: { BERTH_CRASH_AT: step } });
      const r = await h.d.docker(['build', '-q', ctx], {
        env: { DOCKER_BUILDKIT: '0' },
        timeoutMs: 30_000,
      });
      assert.notEqual(r.code, 0, step);
      await crashed(h.d);
      h.d = await h.d.restart();
      assert.equal(ok(await h.d.docker(['ps', '-aq'])).trim(), '', step);
      assert.equal(ok(await h.d.docker(['images', '-aq'])).trim(), imagesBefore, step);
      assert.deepEqual(await layerDirs(), layersBefore, step);
      const mounts = await fsp.readFile('/proc/self/mountinfo', 'utf8');
      assert.ok(!mounts.includes(`${h.d.dataRoot}/`), `${step}: a mount is left`);
    }
    ok(await h.d.docker(['build', '-q', ctx], { env: { DOCKER_BUILDKIT: '0' } }));
  } finally {
    await fsp.rm(ctx, { recursive: true, force: true });
  }
});
