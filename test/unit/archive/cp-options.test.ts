// applyLayer's cp options (owner, rename, no whiteouts, noOverwriteDirNonDir) and packPath.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { applyLayer, packPath, rebaseName } from '../../../src/archive/index.ts';
import { buildTar, isRoot, streamOf, tempDir } from './helpers.ts';

async function collect(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('rebaseName', () => {
  it('renames the top entry and everything below it, nothing else', () => {
    assert.equal(rebaseName('tree', 'tree', 'copy'), 'copy');
    assert.equal(rebaseName('tree/a/b', 'tree', 'copy'), 'copy/a/b');
    assert.equal(rebaseName('tree/', 'tree', 'copy'), 'copy/');
    assert.equal(rebaseName('treehouse/x', 'tree', 'copy'), 'treehouse/x');
    assert.equal(rebaseName('merged/bin', 'merged', '/'), '/bin');
    assert.equal(rebaseName('etc/passwd', 'etc', '.'), './passwd');
  });
});

describe('applyLayer for cp', () => {
  it('renames entries, keeps .wh. names as files and sets a fixed owner', async (t) => {
    const dest = tempDir(t);
    const tar = await buildTar([
      { name: 'src/', type: 'directory', mode: 0o755 },
      { name: 'src/.wh.keep', content: 'not a whiteout' },
      { name: 'src/f', content: 'x', uid: 1234, gid: 5678 },
    ]);
    await applyLayer(streamOf(tar), dest, {
      whiteouts: false,
      owner: { uid: 0, gid: 0 },
      rename: (n) => rebaseName(n, 'src', 'dst'),
    });
    assert.equal(fs.readFileSync(path.join(dest, 'dst/.wh.keep'), 'utf8'), 'not a whiteout');
    const st = fs.lstatSync(path.join(dest, 'dst/f'));
    if (isRoot) assert.equal(`${st.uid}:${st.gid}`, '0:0');
    assert.equal(fs.existsSync(path.join(dest, 'src')), false);
  });

  // Needs root to chown to the archive's uid/gid; CI runs as root, so it runs there.
  it('keeps the archive owner with owner=keep and leaves it with owner=none', {
    skip: !isRoot && 'needs root (chown to other owners)',
  }, async (t) => {
    const tar = await buildTar([{ name: 'f', content: 'x', uid: 1234, gid: 5678 }]);
    const keep = tempDir(t);
    await applyLayer(streamOf(tar), keep, { owner: 'keep' });
    assert.equal(fs.lstatSync(path.join(keep, 'f')).uid, 1234);
    const none = tempDir(t);
    await applyLayer(streamOf(tar), none, { owner: 'none' });
    assert.equal(fs.lstatSync(path.join(none, 'f')).uid, 0);
  });

  it('noOverwriteDirNonDir refuses to replace a directory by a file and the reverse', async (t) => {
    const dest = tempDir(t);
    fs.mkdirSync(path.join(dest, 'd'));
    fs.writeFileSync(path.join(dest, 'd', 'inside'), 'kept');
    fs.writeFileSync(path.join(dest, 'f'), 'kept');
    const fileOverDir = await buildTar([{ name: 'd', content: 'x' }]);
    await assert.rejects(
      applyLayer(streamOf(fileOverDir), dest, { noOverwriteDirNonDir: true }),
      /cannot overwrite directory "d" with non-directory/,
    );
    const dirOverFile = await buildTar([{ name: 'f/', type: 'directory' }]);
    await assert.rejects(
      applyLayer(streamOf(dirOverFile), dest, { noOverwriteDirNonDir: true }),
      /cannot overwrite non-directory "f" with directory/,
    );
    assert.equal(fs.readFileSync(path.join(dest, 'd', 'inside'), 'utf8'), 'kept');
    assert.equal(fs.readFileSync(path.join(dest, 'f'), 'utf8'), 'kept');
  });
});

describe('packPath', () => {
  it('packs one path (a tree, or a symlink not followed) under its rebased name', async (t) => {
    const dir = tempDir(t);
    fs.mkdirSync(path.join(dir, 'tree/sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'tree/sub/f'), 'data');
    fs.symlinkSync('/etc/passwd', path.join(dir, 'tree/link'));
    fs.writeFileSync(path.join(dir, 'sibling'), 'not packed');
    const out = tempDir(t);
    await applyLayer(packPath(dir, 'tree', { rebase: 'copy' }), out);
    assert.deepEqual(fs.readdirSync(out), ['copy']);
    assert.equal(fs.readFileSync(path.join(out, 'copy/sub/f'), 'utf8'), 'data');
    assert.equal(fs.readlinkSync(path.join(out, 'copy/link')), '/etc/passwd');
    const linkOnly = await collect(packPath(path.join(dir, 'tree'), 'link'));
    // one header block for the symlink, then the end-of-archive marker: no file content
    assert.equal(linkOnly.length, 512 + 1024);
    assert.equal(linkOnly.subarray(0, 4).toString(), 'link');
  });
});
