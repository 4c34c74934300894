// kill -9 of berthd in the middle of a large load: the next start lists no partial image and
// removes every leftover.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { dockerLegacyArchive, makeTar } from '../helpers/tarballs.ts';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.cleanup();
});

async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await listAll(p)));
  }
  return out;
}

test('kill -9 during load leaves a store the next start repairs', async () => {
  // Eight 8 MB layers of incompressible data: long enough to be killed part-way.
  const layers: Buffer[] = [];
  for (let i = 0; i < 8; i++) layers.push(await makeTar([{ name: `blob${i}`, body: randomBytes(8 << 20) }]));
  const { tar } = await dockerLegacyArchive([{ layers, repoTags: ['crash/big:1'] }]);
  const file = path.join(d.dir, 'big.tar');
  await fsp.writeFile(file, tar);

  const loading = d.berth(['load', '-i', file]);
  // Wait until the daemon has started writing layers, then kill it.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const files = await listAll(path.join(d.dataRoot, 'layers'));
    if (files.some((f) => f.includes('.berth-tmp-') || /[a-f0-9]{64}$/.test(f))) break;
    if (Date.now() > deadline) throw new Error('load never started');
    await new Promise((r) => setTimeout(r, 5));
  }
  await d.kill9();
  const res = await loading;
  assert.notEqual(res.code, 0);

  d = await d.restart();
  const images = JSON.parse((await d.request('GET', '/images/json')).body.toString());
  assert.deepEqual(images, []);
  const left = await listAll(d.dataRoot);
  assert.deepEqual(
    left.filter((f) => f.includes('.berth-tmp-')),
    [],
  );
  assert.deepEqual(await fsp.readdir(path.join(d.dataRoot, 'blobs/ingest')), []);
  assert.deepEqual(await fsp.readdir(path.join(d.dataRoot, 'blobs/sha256')), []);
  assert.deepEqual(
    (await fsp.readdir(path.join(d.dataRoot, 'layers'))).filter((n) => n !== 'l'),
    [],
  );
  assert.deepEqual(await fsp.readdir(path.join(d.dataRoot, 'layers/l')), []);

  // And the same archive loads completely afterwards.
  const again = await d.berth(['load', '-i', file]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Loaded image: crash\/big:1/);
});
