// Hostile layers. Each case checks the error (an InvalidArgumentError naming the entry and the
// problem) and that nothing outside the destination was created or changed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { applyLayer } from '../../../src/archive/index.ts';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';
import { buildTar, getXattr, have, isRoot, sandbox, snapshot, streamOf, type TarSpec } from './helpers.ts';

/** Applies `entries` in a sandbox and checks the refusal and that `outside` is unchanged. */
async function expectRefused(
  t: Parameters<typeof sandbox>[0],
  entries: TarSpec[],
  message: string | RegExp,
  opts: { allowDevices?: boolean } = {},
): Promise<{ root: string; dest: string; outside: string }> {
  const box = sandbox(t);
  const before = snapshot(box.outside);
  const siblingsBefore = fs.readdirSync(box.root).sort();
  const passwd = fs.statSync('/etc/passwd');
  await assert.rejects(applyLayer(streamOf(await buildTar(entries)), box.dest, opts), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.equal(err.code, 'LAYER_UNSAFE_ENTRY');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
  assert.deepEqual(snapshot(box.outside), before, 'outside directory unchanged');
  assert.deepEqual(fs.readdirSync(box.root).sort(), siblingsBefore, 'nothing created next to dest');
  const after = fs.statSync('/etc/passwd');
  assert.deepEqual([after.nlink, after.mtimeMs, after.mode], [passwd.nlink, passwd.mtimeMs, passwd.mode]);
  return box;
}

describe('applyLayer: hostile layers', () => {
  it('refuses ../escape', async (t) => {
    await expectRefused(
      t,
      [{ name: '../escape', content: 'x' }],
      'refusing layer entry "../escape": path escapes the layer root',
    );
  });

  it('refuses a/../../escape', async (t) => {
    await expectRefused(
      t,
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/../../escape', content: 'x' },
      ],
      'refusing layer entry "a/../../escape": path escapes the layer root',
    );
  });

  it('refuses an absolute name /etc/x', async (t) => {
    await expectRefused(
      t,
      [{ name: '/etc/x', content: 'x' }],
      'refusing layer entry "/etc/x": path is absolute',
    );
    assert.equal(fs.existsSync('/etc/x'), false);
  });

  it('refuses writing through a symlink to an absolute outside dir (evil -> outside, evil/file)', async (t) => {
    const box = sandbox(t);
    const before = snapshot(box.outside);
    const tarball = await buildTar([
      { name: 'evil', type: 'symlink', linkname: box.outside },
      { name: 'evil/file', content: 'pwned' },
    ]);
    await assert.rejects(applyLayer(streamOf(tarball), box.dest), {
      name: 'InvalidArgumentError',
      message: 'refusing layer entry "evil/file": parent "evil" is a symlink; refusing to write through it',
    });
    assert.deepEqual(snapshot(box.outside), before);
    assert.equal(fs.existsSync(path.join(box.outside, 'file')), false);
  });

  it('refuses a symlink to /tmp/outside-like paths written through at depth', async (t) => {
    const box = sandbox(t);
    const before = snapshot(box.outside);
    const tarball = await buildTar([
      { name: 'a/b/', type: 'directory' },
      { name: 'a/b/evil', type: 'symlink', linkname: box.outside },
      { name: 'a/b/evil/sub/deeper/file', content: 'pwned' },
    ]);
    await assert.rejects(applyLayer(streamOf(tarball), box.dest), /parent "a\/b\/evil" is a symlink/);
    assert.deepEqual(snapshot(box.outside), before);
  });

  it('refuses a symlink to .. followed by a write through it', async (t) => {
    await expectRefused(
      t,
      [
        { name: 'up', type: 'symlink', linkname: '..' },
        { name: 'up/escape', content: 'x' },
      ],
      'refusing layer entry "up/escape": parent "up" is a symlink; refusing to write through it',
    );
  });

  it('refuses a directory later replaced by a symlink, then written through', async (t) => {
    const box = await expectRefused(
      t,
      [
        { name: 'd/', type: 'directory', mode: 0o777 },
        { name: 'd/ok', content: 'fine' },
        { name: 'd', type: 'symlink', linkname: '..' },
        { name: 'd/escape', content: 'x' },
      ],
      /refusing layer entry "d\/escape": parent "d" is a symlink/,
    );
    assert.ok(fs.lstatSync(path.join(box.dest, 'd')).isSymbolicLink());
  });

  it('does not chmod through a symlink that replaced a directory (deferred directory metadata)', async (t) => {
    const box = sandbox(t);
    fs.chmodSync(box.outside, 0o700);
    const tarball = await buildTar([
      { name: 'd/', type: 'directory', mode: 0o777 },
      { name: 'd', type: 'symlink', linkname: box.outside },
    ]);
    await applyLayer(streamOf(tarball), box.dest);
    assert.equal(fs.statSync(box.outside).mode & 0o777, 0o700);
    assert.ok(fs.lstatSync(path.join(box.dest, 'd')).isSymbolicLink());
  });

  it('replaces (never follows) an existing symlink when a file, directory or link takes its name', async (t) => {
    const box = sandbox(t);
    const before = snapshot(box.outside);
    const secret = path.join(box.outside, 'secret');
    const tarball = await buildTar([
      { name: 'f', type: 'symlink', linkname: secret },
      { name: 'f', content: 'overwritten?' },
      { name: 'd', type: 'symlink', linkname: box.outside },
      { name: 'd/', type: 'directory', mode: 0o777 },
      { name: 's', type: 'symlink', linkname: secret },
      { name: 's', type: 'symlink', linkname: 'elsewhere' },
      { name: 'h', type: 'symlink', linkname: secret },
      { name: 'h', type: 'link', linkname: 'f' },
    ]);
    await applyLayer(streamOf(tarball), box.dest);
    assert.deepEqual(snapshot(box.outside), before);
    assert.equal(fs.readFileSync(path.join(box.dest, 'f'), 'utf8'), 'overwritten?');
    assert.ok(fs.lstatSync(path.join(box.dest, 'd')).isDirectory());
    assert.equal(fs.readlinkSync(path.join(box.dest, 's')), 'elsewhere');
    assert.equal(fs.statSync(path.join(box.dest, 'h')).ino, fs.statSync(path.join(box.dest, 'f')).ino);
  });

  it('refuses a hard link to ../../etc/passwd', async (t) => {
    await expectRefused(
      t,
      [{ name: 'passwd', type: 'link', linkname: '../../etc/passwd' }],
      'refusing layer entry "passwd": hard link target escapes the layer root',
    );
  });

  it('refuses an absolute hard link target', async (t) => {
    await expectRefused(
      t,
      [{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }],
      'refusing layer entry "passwd": hard link target is absolute',
    );
  });

  it('refuses a hard link through a symlink', async (t) => {
    const box = sandbox(t);
    const secret = path.join(box.outside, 'secret');
    const tarball = await buildTar([
      { name: 'sl', type: 'symlink', linkname: box.outside },
      { name: 'stolen', type: 'link', linkname: 'sl/secret' },
    ]);
    await assert.rejects(applyLayer(streamOf(tarball), box.dest), {
      name: 'InvalidArgumentError',
      message: 'refusing layer entry "stolen": hard link target passes through a symlink',
    });
    assert.equal(fs.statSync(secret).nlink, 1);
    assert.equal(fs.existsSync(path.join(box.dest, 'stolen')), false);
  });

  it('links a symlink itself (not its target) when a hard link names a symlink', async (t) => {
    const box = sandbox(t);
    const secret = path.join(box.outside, 'secret');
    const tarball = await buildTar([
      { name: 'sl', type: 'symlink', linkname: secret },
      { name: 'hl', type: 'link', linkname: 'sl' },
    ]);
    await applyLayer(streamOf(tarball), box.dest);
    assert.equal(fs.statSync(secret).nlink, 1);
    assert.ok(fs.lstatSync(path.join(box.dest, 'hl')).isSymbolicLink());
  });

  it('refuses hard links to missing targets and directories', async (t) => {
    await expectRefused(
      t,
      [{ name: 'x', type: 'link', linkname: 'nope' }],
      'refusing layer entry "x": hard link target does not exist in the layer',
    );
    await expectRefused(
      t,
      [
        { name: 'dir/', type: 'directory' },
        { name: 'x', type: 'link', linkname: 'dir' },
      ],
      'refusing layer entry "x": hard link target is a directory',
    );
  });

  it('refuses device nodes when allowDevices is false', async (t) => {
    const box = await expectRefused(
      t,
      [{ name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 }],
      'refusing layer entry "dev/sda": block device nodes are not allowed',
      { allowDevices: false },
    );
    assert.equal(fs.existsSync(path.join(box.dest, 'dev/sda')), false);
    await expectRefused(
      t,
      [{ name: 'mem', type: 'character-device', devmajor: 1, devminor: 1 }],
      'refusing layer entry "mem": character device nodes are not allowed',
      { allowDevices: false },
    );
  });

  it('refuses whiteouts that escape or go through symlinks', async (t) => {
    await expectRefused(t, [{ name: '../.wh.secret', content: '' }], /path escapes the layer root/);
    const box = sandbox(t);
    const tarball = await buildTar([
      { name: 'evil', type: 'symlink', linkname: box.outside },
      { name: 'evil/.wh.secret', content: '' },
    ]);
    await assert.rejects(applyLayer(streamOf(tarball), box.dest), /parent "evil" is a symlink/);
    assert.equal(fs.readFileSync(path.join(box.outside, 'secret'), 'utf8'), 'do not touch');
    const tarball2 = await buildTar([
      { name: 'evil', type: 'symlink', linkname: box.outside },
      { name: 'evil/.wh..wh..opq', content: '' },
    ]);
    await assert.rejects(applyLayer(streamOf(tarball2), sandbox(t).dest), /parent "evil" is a symlink/);
    await expectRefused(t, [{ name: 'dir/.wh..', content: '' }], /whiteout names no file/);
  });

  it('replaces a symlink with a whiteout without following it', {
    skip: !isRoot && 'needs root',
  }, async (t) => {
    const box = sandbox(t);
    const secret = path.join(box.outside, 'secret');
    const tarball = await buildTar([
      { name: 'victim', type: 'symlink', linkname: secret },
      { name: '.wh.victim', content: '' },
    ]);
    await applyLayer(streamOf(tarball), box.dest);
    assert.equal(fs.readFileSync(secret, 'utf8'), 'do not touch');
    assert.ok(fs.lstatSync(path.join(box.dest, 'victim')).isCharacterDevice());
  });

  it('ignores overlay xattrs from the archive', {
    skip: (!have('getfattr') || !isRoot) && 'needs root and getfattr',
  }, async (t) => {
    const box = sandbox(t);
    const tarball = await buildTar([
      { name: 'dir/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
      { name: 'f', content: 'x', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } },
    ]);
    await applyLayer(streamOf(tarball), box.dest);
    assert.equal(getXattr(path.join(box.dest, 'dir'), 'trusted.overlay.opaque'), undefined);
    assert.equal(getXattr(path.join(box.dest, 'f'), 'trusted.overlay.redirect'), undefined);
  });

  it('refuses a layer whose root entry is not a directory', async (t) => {
    await expectRefused(
      t,
      [{ name: './', type: 'symlink', linkname: '/' }],
      /the layer root can only be a directory/,
    );
  });

  it('refuses files through a regular file used as a directory', async (t) => {
    await expectRefused(
      t,
      [
        { name: 'f', content: 'x' },
        { name: 'f/g', content: 'y' },
      ],
      'refusing layer entry "f/g": parent "f" is not a directory',
    );
  });
});
