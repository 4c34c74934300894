// OCI whiteouts → overlayfs whiteouts. The overlay mount is the real proof: files whited out
// in an upper layer must vanish from the merged view.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { applyLayer } from '../../../src/archive/index.ts';
import { buildTar, getXattr, have, isRoot, streamOf, tempDir } from './helpers.ts';

const canXattr = isRoot && have('getfattr');

describe('applyLayer: whiteouts', () => {
  it('turns .wh.name into a char 0/0 node and .wh..wh..opq into the opaque xattr', {
    skip: !canXattr && 'needs root and getfattr',
  }, async (t) => {
    const dest = tempDir(t);
    const tarball = await buildTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.motd', content: '' },
      { name: '.wh.tmp', content: '' },
      { name: 'var/cache/', type: 'directory' },
      { name: 'var/cache/.wh..wh..opq', content: '' },
      { name: 'var/cache/new', content: 'n' },
      { name: 'usr/.wh..wh.plnk', content: '' }, // aufs metadata: ignored
    ]);
    await applyLayer(streamOf(tarball), dest);
    for (const p of ['etc/motd', 'tmp']) {
      const st = fs.lstatSync(path.join(dest, p));
      assert.ok(st.isCharacterDevice(), `${p} is a char device`);
      assert.equal(st.rdev, 0, `${p} is 0/0`);
    }
    assert.deepEqual(getXattr(path.join(dest, 'var/cache'), 'trusted.overlay.opaque'), Buffer.from('y'));
    assert.equal(getXattr(path.join(dest, 'etc'), 'trusted.overlay.opaque'), undefined);
    assert.equal(fs.existsSync(path.join(dest, 'etc/.wh.motd')), false);
    assert.equal(fs.existsSync(path.join(dest, 'usr/.wh..wh.plnk')), false);
    assert.equal(fs.readFileSync(path.join(dest, 'var/cache/new'), 'utf8'), 'n');
    // no temporary whiteout template left in the layer root
    assert.deepEqual(fs.readdirSync(dest).sort(), ['etc', 'tmp', 'usr', 'var']);
  });

  it('hides lower files in a real overlay mount', {
    skip: !canXattr && 'needs root and getfattr',
  }, async (t) => {
    const dir = tempDir(t);
    const lower = path.join(dir, 'lower');
    const upper = path.join(dir, 'upper'); // the applied layer, used as a second lowerdir
    const merged = path.join(dir, 'merged');
    for (const d of [lower, upper, merged]) fs.mkdirSync(d);
    await applyLayer(
      streamOf(
        await buildTar([
          { name: 'gone.txt', content: 'lower' },
          { name: 'kept.txt', content: 'lower' },
          { name: 'cache/', type: 'directory' },
          { name: 'cache/old1', content: 'old' },
          { name: 'cache/old2', content: 'old' },
          { name: 'etc/', type: 'directory' },
          { name: 'etc/motd', content: 'hello' },
          { name: 'etc/hosts', content: 'hosts' },
        ]),
      ),
      lower,
    );
    await applyLayer(
      streamOf(
        await buildTar([
          { name: '.wh.gone.txt', content: '' },
          { name: 'etc/', type: 'directory' },
          { name: 'etc/.wh.motd', content: '' },
          { name: 'cache/', type: 'directory' },
          { name: 'cache/.wh..wh..opq', content: '' },
          { name: 'cache/fresh', content: 'new' },
        ]),
      ),
      upper,
    );
    try {
      execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${upper}:${lower}`, merged], {
        stdio: 'pipe',
      });
    } catch (err) {
      t.skip(`overlay mount unavailable: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    try {
      assert.deepEqual(fs.readdirSync(merged).sort(), ['cache', 'etc', 'kept.txt']);
      assert.deepEqual(fs.readdirSync(path.join(merged, 'etc')), ['hosts']);
      assert.deepEqual(fs.readdirSync(path.join(merged, 'cache')), ['fresh']);
      assert.equal(fs.existsSync(path.join(merged, 'gone.txt')), false);
      assert.equal(fs.readFileSync(path.join(merged, 'cache/fresh'), 'utf8'), 'new');
    } finally {
      execFileSync('umount', [merged]);
    }
  });

  it('creates many whiteouts quickly (one node, hard-linked)', {
    skip: !isRoot && 'needs root',
  }, async (t) => {
    const dest = tempDir(t);
    const entries = Array.from({ length: 500 }, (_, i) => ({ name: `d/.wh.f${i}`, content: '' }));
    const start = performance.now();
    await applyLayer(streamOf(await buildTar(entries)), dest);
    const ms = performance.now() - start;
    assert.equal(fs.readdirSync(path.join(dest, 'd')).length, 500);
    assert.ok(fs.lstatSync(path.join(dest, 'd/f499')).isCharacterDevice());
    assert.ok(ms < 5000, `500 whiteouts took ${ms} ms`);
  });
});
