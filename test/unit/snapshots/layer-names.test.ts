// Layer directory names are chain ID hex: anything else names no layer and cannot be committed,
// so no caller can make the snapshotter read or write outside its root (issue 14 §1).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LayerSnapshots } from '../../../src/snapshots/layers.ts';

describe('layer names', () => {
  it('only 64 hex digits name a layer', async (t) => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-layers-'));
    t.after(() => fs.rmSync(base, { recursive: true, force: true }));
    const root = path.join(base, 'layers');
    // A record outside the root that a path-like name would reach.
    fs.mkdirSync(path.join(base, 'planted'));
    fs.writeFileSync(
      path.join(base, 'planted', 'meta.json'),
      JSON.stringify({ name: 'x', link: '../..', size: 0, labels: {} }),
    );
    const s = await LayerSnapshots.open(root);
    assert.equal(await s.get('../planted'), undefined);
    assert.throws(() => s.diffDir('../planted'), /invalid layer name/);
    const p = await s.prepare();
    await assert.rejects(p.commit({ name: '../../escaped', size: 0 }), /invalid layer name/);
    await p.abort();
    assert.equal(fs.existsSync(path.join(base, '..', 'escaped')), false);
    const ok = await s.prepare();
    const meta = await ok.commit({ name: 'a'.repeat(64), size: 0 });
    assert.equal(meta.name, 'a'.repeat(64));
    assert.ok((await s.get('a'.repeat(64))) !== undefined);
  });
});
