// The local volume store on a real directory: create/remove, users, start-up recovery of cut
// short creates and removes, adoption of record-less volumes, copy-up.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { chmod, chown } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { LocalVolumes } from '../../../src/volumes/index.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-vol-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const log = () => {};

test('create is idempotent, remove refuses while used and leaves other volumes alone', async () => {
  const root = path.join(tmp, 'a');
  const v = await LocalVolumes.open(root, log);
  const { volume, created } = await v.create({ name: 'one', labels: { k: 'v' } });
  assert.equal(created, true);
  assert.equal(volume.mountpoint, path.join(root, 'one', '_data'));
  assert.equal((await v.create({ name: 'one' })).created, false);
  await v.create({ name: 'two' });
  writeFileSync(path.join(root, 'two', '_data', 'keep'), 'x');
  await v.acquire('one', 'c1');
  await assert.rejects(
    v.remove('one', { nameOf: (id) => (id === 'c1' ? 'web' : undefined) }),
    (e: Error & { kind?: string }) => e.kind === 'conflict' && /in use - \[c1 \(web\)\]/.test(e.message),
  );
  v.release('one', 'c1');
  await v.remove('one');
  assert.equal(existsSync(path.join(root, 'one')), false);
  assert.equal(readFileSync(path.join(root, 'two', '_data', 'keep'), 'utf8'), 'x');
  await assert.rejects(v.remove('one'), (e: Error & { kind?: string }) => e.kind === 'not-found');
  await v.remove('one', { force: true });
  // A generated name is 64 hex digits; only container-made volumes carry the anonymous label.
  const gen = await v.create({});
  assert.match(gen.volume.name, /^[0-9a-f]{64}$/);
  assert.equal(v.isAnonymous(gen.volume.name), false);
  const anon = await v.acquire(undefined, 'c2', { anonymous: true });
  assert.equal(v.isAnonymous(anon.volume.name), true);
  // Reopened: records come back, users are re-counted by the caller.
  const again = await LocalVolumes.open(root, log);
  assert.deepEqual(again.get('two').labels, {});
  assert.equal(again.users(anon.volume.name).length, 0);
});

test('start-up drops cut-short creates and removes and adopts record-less volume directories', async () => {
  const root = path.join(tmp, 'b');
  mkdirSync(path.join(root, '.berth-tmp-abc-half', '_data'), { recursive: true });
  mkdirSync(path.join(root, '.removing-abc-gone', '_data'), { recursive: true });
  mkdirSync(path.join(root, 'handmade', '_data'), { recursive: true });
  writeFileSync(path.join(root, 'handmade', '_data', 'f'), 'data');
  const v = await LocalVolumes.open(root, log);
  assert.equal(existsSync(path.join(root, '.berth-tmp-abc-half')), false);
  assert.equal(existsSync(path.join(root, '.removing-abc-gone')), false);
  assert.deepEqual(
    v.list().map((x) => x.name),
    ['handmade'],
  );
  assert.equal(readFileSync(path.join(root, 'handmade', '_data', 'f'), 'utf8'), 'data');
});

test('bad names and options are refused before anything is written', async () => {
  const root = path.join(tmp, 'c');
  const v = await LocalVolumes.open(root, log);
  for (const name of ['../x', 'a/b', '..'])
    await assert.rejects(v.create({ name }), (e: Error & { kind?: string }) => e.kind === 'invalid-argument');
  await assert.rejects(v.create({ name: 'ok1', options: { size: '1g' } }), /invalid option key/);
  await assert.rejects(v.create({ name: 'ok2', driver: 'nfs' }), /plugin "nfs" not found/);
  assert.deepEqual(v.list(), []);
  assert.equal(existsSync(path.join(tmp, 'x')), false);
});

test('populate copies into an empty volume only, keeping owners and modes', async () => {
  const root = path.join(tmp, 'd');
  const v = await LocalVolumes.open(root, log);
  const src = path.join(tmp, 'src');
  mkdirSync(path.join(src, 'sub'), { recursive: true, mode: 0o750 });
  writeFileSync(path.join(src, 'sub', 'f'), 'hi', { mode: 0o600 });
  await chown(path.join(src, 'sub', 'f'), 1000, 1001);
  await chown(src, 1000, 1000);
  await chmod(src, 0o710);
  await v.create({ name: 'copy' });
  await v.populate('copy', src);
  const data = v.dataPath('copy');
  const f = statSync(path.join(data, 'sub', 'f'));
  assert.deepEqual([f.uid, f.gid, f.mode & 0o777], [1000, 1001, 0o600]);
  const top = statSync(data);
  assert.deepEqual([top.uid, top.mode & 0o777], [1000, 0o710]);
  // Not empty any more: a second populate changes nothing.
  writeFileSync(path.join(src, 'new'), 'n');
  await v.populate('copy', src);
  assert.equal(existsSync(path.join(data, 'new')), false);
  // No staging directory is left beside _data.
  assert.deepEqual(readdirSync(path.join(root, 'copy')).sort(), ['_data', 'volume.json']);
});
