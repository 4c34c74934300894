// Property test (bounded): for random trees of directories, files and symlinks (relative,
// absolute, climbing, looping) and random paths, resolution never leaves the root, leaves no
// symlink on the resolved path except a final one that was not to be followed, and the sync and
// async drivers agree.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import fc from 'fast-check';
import { resolveInRoot, resolveInRootSync } from '../../../src/pathsafe/index.ts';

const NAMES = ['a', 'b', 'c', '..', '.', ''];
const component = fc.constantFrom(...NAMES);
const relPath = fc.array(component, { maxLength: 6 }).map((xs) => xs.join('/'));
const linkTarget = fc.tuple(fc.boolean(), relPath).map(([abs, p]) => (abs ? `/${p}` : p) || '.');
const node = fc.oneof(
  fc.constant({ kind: 'dir' as const }),
  fc.constant({ kind: 'file' as const }),
  linkTarget.map((target) => ({ kind: 'link' as const, target })),
);
// A tree: each of a few fixed places is a dir, a file, a link or nothing.
const PLACES = ['a', 'b', 'a/a', 'a/b', 'a/c', 'b/a', 'a/a/b'];
const treeArb = fc.array(fc.option(node, { nil: undefined }), {
  minLength: PLACES.length,
  maxLength: PLACES.length,
});

it('never leaves the root, whatever the tree and the path', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pathsafe-prop-'));
  try {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(treeArb, relPath, fc.boolean(), async (nodes, p, followFinal) => {
        const root = path.join(base, String(n++));
        fs.mkdirSync(root);
        for (const [i, place] of PLACES.entries()) {
          const nd = nodes[i];
          const at = path.join(root, place);
          if (!nd || !fs.existsSync(path.dirname(at)) || !fs.lstatSync(path.dirname(at)).isDirectory())
            continue;
          if (fs.lstatSync(at, { throwIfNoEntry: false })) continue;
          if (nd.kind === 'dir') fs.mkdirSync(at);
          else if (nd.kind === 'file') fs.writeFileSync(at, 'f');
          else fs.symlinkSync(nd.target, at);
        }
        let sync: ReturnType<typeof resolveInRootSync> | undefined;
        try {
          sync = resolveInRootSync(root, p, { followFinal });
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'PATH_SYMLINK_LOOP');
          await assert.rejects(resolveInRoot(root, p, { followFinal }), { code: 'PATH_SYMLINK_LOOP' });
          return;
        }
        const async = await resolveInRoot(root, p, { followFinal });
        assert.equal(async.rel, sync.rel);
        assert.ok(sync.abs === root || sync.abs.startsWith(`${root}/`), `${p} → ${sync.abs}`);
        assert.ok(!sync.rel.split('/').includes('..'));
        const parts = sync.rel === '.' ? [] : sync.rel.split('/');
        for (let i = 0; i < parts.length; i++) {
          let st: fs.Stats | undefined;
          try {
            st = fs.lstatSync(path.join(root, ...parts.slice(0, i + 1)));
          } catch {
            st = undefined; // missing, or below a file
          }
          if (st === undefined) break;
          const last = i === parts.length - 1;
          if (st.isSymbolicLink())
            assert.ok(last && !followFinal && !/\/\.?$/.test(p), `link left on ${sync.rel} for ${p}`);
        }
      }),
      { numRuns: 300, seed: 14 },
    );
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});
