// ContainerStore: a removal cut short after its commit point (the rename) is reported at open,
// with whether anonymous volumes go too, until it is purged; unreadable leftovers are deleted.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ContainerStore } from '../../../src/containers/store.ts';

const id = (c: string) => c.repeat(64);

test('open reports cut-short removals and purge finishes them', async () => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-store-'));
  try {
    const rec = (i: string) => JSON.stringify({ id: i, name: `n${i[0]}`, state: { status: 'exited' } });
    for (const [dir, body] of [
      [`${id('a')}.removing-v`, rec(id('a'))],
      [`${id('b')}.removing`, rec(id('b'))],
      [`${id('c')}.removing`, '{not json'],
      [`${id('d')}.removing`, rec(id('e'))], // a record that is not this directory's
      [id('f'), rec(id('f'))],
    ] as const) {
      await fsp.mkdir(path.join(root, dir));
      await fsp.writeFile(path.join(root, dir, 'config.v2.json'), body);
    }
    const s = await ContainerStore.open(root);
    assert.deepEqual(
      s
        .pendingRemovals()
        .map((p) => [p.rec.id[0], p.dropAnonymous])
        .sort(),
      [
        ['a', true],
        ['b', false],
      ],
    );
    assert.deepEqual(
      s.all().map((r) => r.id),
      [id('f')],
    );
    assert.deepEqual((await fsp.readdir(root)).sort(), [
      `${id('a')}.removing-v`,
      `${id('b')}.removing`,
      id('f'),
    ]);

    await s.purge(id('a'));
    await s.markRemoved(id('f'), true);
    assert.equal(s.get(id('f')), undefined);
    assert.deepEqual((await fsp.readdir(root)).sort(), [`${id('b')}.removing`, `${id('f')}.removing-v`]);
    assert.deepEqual(
      s.pendingRemovals().map((p) => p.rec.id[0]),
      ['b'],
    );
    await s.purge(id('b'));
    await s.purge(id('f'));
    assert.deepEqual(await fsp.readdir(root), []);
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
});
