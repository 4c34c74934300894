// Literal paths below a root (src/pathsafe/beneath.ts): no symlink followed anywhere.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { lstatBeneath, removeBeneath } from '../../../src/pathsafe/index.ts';
import { tree } from './resolve.test.ts';

describe('lstatBeneath / removeBeneath', () => {
  it('sees nothing through a symlinked parent and removes nothing there', async (t) => {
    const host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-canary-'));
    t.after(() => fs.rmSync(host, { recursive: true, force: true }));
    fs.mkdirSync(path.join(host, 'e'));
    const root = tree(t, { x: `->${host}`, 'd/e/': '', 'd/l': `->${host}/e` });
    assert.equal(await lstatBeneath(root, '/x/e'), undefined);
    assert.ok((await lstatBeneath(root, '/d/l'))?.isSymbolicLink());
    assert.ok((await lstatBeneath(root, 'd/e'))?.isDirectory());
    assert.equal(await removeBeneath(root, '/x/e'), false);
    assert.ok(fs.statSync(path.join(host, 'e')).isDirectory(), 'the host dir was removed');
    // A final symlink is removed as a link, its target stays.
    assert.equal(await removeBeneath(root, 'd/l'), true);
    assert.ok(fs.statSync(path.join(host, 'e')).isDirectory());
    assert.equal(await removeBeneath(root, 'd/e'), true);
    assert.equal(fs.existsSync(path.join(root, 'd/e')), false);
    assert.equal(await removeBeneath(root, 'd/missing'), false);
    // `..` is lexical and clamped at the root.
    assert.equal(await removeBeneath(root, 'd/../../../x/e'), false);
    assert.ok(fs.statSync(path.join(host, 'e')).isDirectory());
    await assert.rejects(removeBeneath(root, 'd/../..'), /the root itself/);
    await assert.rejects(removeBeneath(root, '/'), /the root itself/);
  });
});
