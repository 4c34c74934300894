import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { applyLayer, packDirectory } from '../../../src/archive/index.ts';
import { getXattr, have, isRoot, type NodeInfo, snapshot, streamOf, tempDir } from './helpers.ts';

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

interface Listed {
  readonly name: string;
  readonly type: string | null | undefined;
  readonly size: number | undefined;
  readonly linkname: string | null | undefined;
  readonly mode: number | undefined;
  readonly pax: Record<string, string> | null | undefined;
}

/** Lists a tarball with tar-stream: an independent reader. */
async function list(tarball: Buffer): Promise<Listed[]> {
  const out: Listed[] = [];
  const ex = tar.extract();
  ex.end(tarball);
  for await (const entry of ex) {
    const h = entry.header;
    out.push({
      name: h.name,
      type: h.type,
      size: h.size,
      linkname: h.linkname,
      mode: h.mode,
      pax: h.pax as Record<string, string> | null | undefined,
    });
    entry.resume();
  }
  return out;
}

const CAP = Buffer.from('0100000280200000000000000000000000000000', 'hex');

/** A tree with every kind of node packDirectory handles (root-only kinds when root). */
function makeTree(dir: string): void {
  const w = (rel: string, data: string | Buffer, mode = 0o644): void => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
    fs.chmodSync(path.join(dir, rel), mode);
  };
  w('etc/hostname', 'box\n');
  w('bin/tool', '#!/bin/sh\n', 0o4755);
  fs.linkSync(path.join(dir, 'bin/tool'), path.join(dir, 'bin/tool-hardlink'));
  fs.symlinkSync('/usr/bin/dash', path.join(dir, 'bin/sh'));
  fs.symlinkSync(`../${'t'.repeat(150)}`, path.join(dir, 'bin/long-target'));
  w('data/big.bin', randomBytes(2 * 1024 * 1024 + 3), 0o600);
  w('data/empty', '', 0o400);
  w(`deep/${'d'.repeat(120)}/${'n'.repeat(130)}`, 'long name');
  w('odd name\\with\nnewline', 'odd');
  fs.writeFileSync(Buffer.from(path.join(dir, 'caf\xe9'), 'latin1'), 'latin-1 name');
  fs.mkdirSync(path.join(dir, 'empty-dir'), { mode: 0o700 });
  fs.chmodSync(path.join(dir, 'empty-dir'), 0o1777);
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  if (isRoot) {
    fs.lchownSync(path.join(dir, 'etc/hostname'), 1000, 1001);
    fs.lchownSync(path.join(dir, 'bin/sh'), 1002, 1003);
    fs.chownSync(path.join(dir, 'empty-dir'), 2000, 2000);
    fs.chmodSync(path.join(dir, 'bin/tool'), 0o4755); // chown cleared nothing here, but be explicit
    execFileSync('mknod', [path.join(dir, 'etc/deleted'), 'c', '0', '0']); // overlay whiteout
    execFileSync('mknod', [path.join(dir, 'null'), 'c', '1', '3']);
    fs.mkdirSync(path.join(dir, 'opaque'));
    fs.writeFileSync(path.join(dir, 'opaque/inside'), 'i');
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(dir, 'opaque')]);
    execFileSync('setfattr', [
      '-n',
      'security.capability',
      '-v',
      `0x${CAP.toString('hex')}`,
      path.join(dir, 'bin/tool'),
    ]);
  }
  // times last (children change directory mtimes)
  const walk = (abs: Buffer, depth: number): void => {
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) {
      for (const n of fs.readdirSync(abs, { encoding: 'buffer' }))
        walk(Buffer.concat([abs, Buffer.from('/'), n]), depth + 1);
    }
    fs.lutimesSync(abs, 1_500_000_000.75, 1_500_000_000.75 + abs.length * 1000 + depth);
  };
  walk(Buffer.from(dir), 0);
}

describe('packDirectory', { skip: !have('getfattr') && 'needs getfattr (package attr)' }, () => {
  it('round-trips through applyLayer with content and metadata intact', async (t) => {
    const dir = tempDir(t);
    const src = path.join(dir, 'src');
    const out = path.join(dir, 'out');
    fs.mkdirSync(src);
    fs.mkdirSync(out);
    makeTree(src);
    const tarball = await collect(packDirectory(src));
    await applyLayer(streamOf(tarball, 65_536), out);
    const want = snapshot(src);
    const got = snapshot(out);
    if (isRoot) {
      // whiteouts come back as whiteouts, but share one inode (see apply.ts): only the kind matters
      const norm = (s: Record<string, NodeInfo>): void => {
        const w = s['etc/deleted'];
        assert.ok(w && w.type === 'char' && w.rdev === 0);
        s['etc/deleted'] = { type: 'char', mode: 0, uid: 0, gid: 0, mtime: 0, rdev: 0 };
      };
      norm(want);
      norm(got);
    }
    assert.deepEqual(got, want);
    if (isRoot) {
      assert.deepEqual(getXattr(path.join(out, 'opaque'), 'trusted.overlay.opaque'), Buffer.from('y'));
      assert.deepEqual(getXattr(path.join(out, 'bin/tool'), 'security.capability'), CAP);
    }
    assert.equal(
      fs.statSync(path.join(out, 'bin/tool')).ino,
      fs.statSync(path.join(out, 'bin/tool-hardlink')).ino,
    );
  });

  it('is deterministic, and packing the extracted tree gives the same bytes', async (t) => {
    const dir = tempDir(t);
    const src = path.join(dir, 'src');
    const out = path.join(dir, 'out');
    fs.mkdirSync(src);
    fs.mkdirSync(out);
    makeTree(src);
    if (isRoot) fs.lutimesSync(path.join(src, 'etc/deleted'), 0, 0); // see the note on whiteouts above
    const a = await collect(packDirectory(src));
    const b = await collect(packDirectory(src));
    assert.ok(a.equals(b), 'same tree, same bytes');
    await applyLayer(streamOf(a), out);
    const c = await collect(packDirectory(out));
    assert.ok(a.equals(c), 'pack → apply → pack is a fixed point');
  });

  it('writes sorted entries, .wh. whiteouts, the opaque marker, hard links and PAX long names', async (t) => {
    const src = tempDir(t);
    makeTree(src);
    const entries = await list(await collect(packDirectory(src)));
    const names = entries.map((e) => e.name);
    // a directory comes right before its children; siblings sorted bytewise
    assert.ok(names.indexOf('bin/') < names.indexOf('bin/sh'));
    assert.ok(names.indexOf('bin/sh') < names.indexOf('bin/tool'));
    assert.ok(names.indexOf('bin/tool') < names.indexOf('bin/tool-hardlink'));
    const hard = entries.find((e) => e.name === 'bin/tool-hardlink');
    assert.deepEqual([hard?.type, hard?.linkname], ['link', 'bin/tool']);
    assert.ok(names.includes(`deep/${'d'.repeat(120)}/${'n'.repeat(130)}`), 'long name via PAX');
    assert.equal(entries.find((e) => e.name === 'bin/long-target')?.linkname, `../${'t'.repeat(150)}`);
    assert.ok(!names.some((n) => n === '' || n === './'), 'no entry for the root itself');
    if (isRoot) {
      const wh = entries.find((e) => e.name === 'etc/.wh.deleted');
      assert.deepEqual([wh?.type, wh?.size, wh?.mode], ['file', 0, 0o600]);
      assert.ok(!names.includes('etc/deleted'));
      const opq = names.indexOf('opaque/.wh..wh..opq');
      assert.equal(opq, names.indexOf('opaque/') + 1, 'opaque marker right after its directory');
      assert.ok(
        entries.find((e) => e.name === 'bin/tool')?.pax?.['SCHILY.xattr.security.capability'] !== undefined,
      );
      assert.equal(entries.find((e) => e.name === 'null')?.type, 'character-device');
    }
  });

  it('is readable by GNU tar', { skip: !have('tar') && 'needs tar' }, async (t) => {
    const dir = tempDir(t);
    const src = path.join(dir, 'src');
    const out = path.join(dir, 'out');
    fs.mkdirSync(src);
    fs.mkdirSync(out);
    makeTree(src);
    const tarball = await collect(packDirectory(src));
    fs.writeFileSync(path.join(dir, 'l.tar'), tarball);
    execFileSync('tar', ['-xpf', path.join(dir, 'l.tar'), '-C', out]);
    assert.equal(
      fs.readFileSync(path.join(out, `deep/${'d'.repeat(120)}/${'n'.repeat(130)}`), 'utf8'),
      'long name',
    );
    assert.ok(
      fs.readFileSync(path.join(out, 'data/big.bin')).equals(fs.readFileSync(path.join(src, 'data/big.bin'))),
    );
  });

  it('marks an opaque root with a top-level .wh..wh..opq', { skip: !isRoot && 'needs root' }, async (t) => {
    const src = tempDir(t);
    fs.writeFileSync(path.join(src, 'a'), 'a');
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', src]);
    const names = (await list(await collect(packDirectory(src)))).map((e) => e.name);
    assert.deepEqual(names, ['.wh..wh..opq', 'a']);
  });

  it('fails for a path that is not a directory', async (t) => {
    const f = path.join(tempDir(t), 'file');
    fs.writeFileSync(f, '');
    await assert.rejects(collect(packDirectory(f)), { code: 'PACK_NOT_A_DIRECTORY' });
  });
});
