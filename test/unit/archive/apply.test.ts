import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { applyLayer, decompress } from '../../../src/archive/index.ts';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';
import { buildTar, getXattr, have, isRoot, snapshot, streamOf, tempDir } from './helpers.ts';

const T1 = new Date('2020-01-02T03:04:05Z');
const T2 = new Date('2001-09-09T01:46:40Z');
const sec = (d: Date): number => d.getTime() / 1000;

describe('applyLayer: regular layers', () => {
  it('extracts files, dirs, symlinks and hard links with modes, times and sizes', async (t) => {
    const dest = tempDir(t);
    fs.chmodSync(dest, 0o755);
    const big = randomBytes(3 * 1024 * 1024 + 17); // over the small-file threshold
    const tarball = await buildTar([
      { name: './', type: 'directory', mode: 0o700 },
      { name: './etc/', type: 'directory', mode: 0o755, mtime: T2 },
      { name: './etc/hostname', content: 'box\n', mode: 0o644, mtime: T1 },
      { name: './bin/', type: 'directory', mode: 0o755, mtime: T2 },
      { name: './bin/tool', content: '#!/bin/sh\n', mode: 0o4755, mtime: T1 },
      { name: './bin/tool-link', type: 'link', linkname: './bin/tool' },
      { name: './bin/sh', type: 'symlink', linkname: '/usr/bin/dash', mtime: T1 },
      { name: './data/big.bin', content: big, mode: 0o600, mtime: T1 },
      { name: './data/empty', content: '', mode: 0o444, mtime: T1 },
      { name: './secret/', type: 'directory', mode: 0o1733, mtime: T2 },
      { name: './ro/', type: 'directory', mode: 0o555, mtime: T2 },
      { name: './ro/file', content: 'x', mtime: T1 },
    ]);
    const res = await applyLayer(streamOf(tarball, 10_000), dest);
    assert.equal(res.size, 4 + 10 + big.length + 0 + 1);
    const snap = snapshot(dest);
    assert.equal(snap['etc/hostname']?.type, 'file');
    assert.equal(fs.readFileSync(path.join(dest, 'etc/hostname'), 'utf8'), 'box\n');
    assert.equal(snap['etc/hostname']?.mode, 0o644);
    assert.equal(snap['etc/hostname']?.mtime, sec(T1));
    assert.equal(snap['bin/tool']?.mode, 0o4755, 'set-uid bit kept');
    assert.equal(snap['bin/tool']?.nlink, 2);
    assert.equal(
      fs.statSync(path.join(dest, 'bin/tool')).ino,
      fs.statSync(path.join(dest, 'bin/tool-link')).ino,
    );
    const owner = isRoot ? { uid: 0, gid: 0 } : { uid: process.getuid!(), gid: process.getgid!() };
    assert.deepEqual(snap['bin/sh'], {
      type: 'symlink',
      mode: 0,
      ...owner,
      mtime: sec(T1),
      target: '/usr/bin/dash',
    });
    assert.ok(fs.readFileSync(path.join(dest, 'data/big.bin')).equals(big));
    assert.equal(snap['data/big.bin']?.mode, 0o600);
    assert.equal(snap['data/empty']?.mode, 0o444);
    assert.equal(snap['data/empty']?.size, 0);
    // implicit parent: created 0755
    assert.equal(snap.data?.type, 'dir');
    assert.equal(snap.data?.mode, 0o755);
    // directory metadata applied after the children were written
    assert.equal(snap.etc?.mtime, sec(T2));
    assert.equal(snap.bin?.mtime, sec(T2));
    assert.equal(snap.secret?.mode, 0o1733);
    assert.equal(snap.ro?.mode, 0o555);
    assert.equal(snap.ro?.mtime, sec(T2));
    // the layer root keeps the snapshotter's metadata, not the archive's `./`
    assert.equal(fs.statSync(dest).mode & 0o777, 0o755);
  });

  it('applies ownership when running as root', { skip: !isRoot && 'needs root' }, async (t) => {
    const dest = tempDir(t);
    const tarball = await buildTar([
      { name: 'home/', type: 'directory', uid: 1000, gid: 1000 },
      { name: 'home/f', content: 'x', uid: 1000, gid: 1001, mode: 0o2755 },
      { name: 'home/l', type: 'symlink', linkname: 'f', uid: 1002, gid: 1003 },
      { name: 'root-owned', content: 'y' },
      { name: 'fifo', type: 'fifo', uid: 7, gid: 8, mode: 0o640 },
    ]);
    await applyLayer(streamOf(tarball), dest);
    const snap = snapshot(dest);
    assert.deepEqual([snap.home?.uid, snap.home?.gid], [1000, 1000]);
    assert.deepEqual([snap['home/f']?.uid, snap['home/f']?.gid], [1000, 1001]);
    assert.equal(snap['home/f']?.mode, 0o2755, 'set-gid bit survives the chown');
    assert.deepEqual([snap['home/l']?.uid, snap['home/l']?.gid], [1002, 1003]);
    assert.deepEqual([snap['root-owned']?.uid, snap['root-owned']?.gid], [0, 0]);
    assert.deepEqual(
      [snap.fifo?.type, snap.fifo?.uid, snap.fifo?.gid, snap.fifo?.mode],
      ['fifo', 7, 8, 0o640],
    );
  });

  it('creates device nodes when allowed', { skip: !isRoot && 'needs root' }, async (t) => {
    const dest = tempDir(t);
    const tarball = await buildTar([
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/loop9', type: 'block-device', devmajor: 7, devminor: 9, mode: 0o660 },
    ]);
    await applyLayer(streamOf(tarball), dest, { allowDevices: true });
    const n = fs.lstatSync(path.join(dest, 'dev/null'));
    assert.ok(n.isCharacterDevice());
    assert.equal(n.rdev, (1 << 8) | 3);
    assert.equal(n.mode & 0o7777, 0o666);
    assert.ok(fs.lstatSync(path.join(dest, 'dev/loop9')).isBlockDevice());
    assert.deepEqual(fs.readdirSync(dest).sort(), ['dev'], 'no temporary node left behind');
  });

  it('replaces earlier entries like tar does, without touching other hard links', async (t) => {
    const dest = tempDir(t);
    const tarball = await buildTar([
      { name: 'a', content: 'first' },
      { name: 'b', type: 'link', linkname: 'a' },
      { name: 'b', content: 'second' }, // replaces the link, must not write into a
      { name: 'd/', type: 'directory' },
      { name: 'd/x', content: 'x' },
      { name: 'd', content: 'now a file' }, // replaces the whole directory
      { name: 'e', content: 'file' },
      { name: 'e/', type: 'directory', mode: 0o711 }, // file replaced by a directory
      { name: 'e/y', content: 'y' },
      { name: 'f/', type: 'directory', mode: 0o700 },
      { name: 'f/keep', content: 'k' },
      { name: 'f/', type: 'directory', mode: 0o750 }, // directory over directory: merged
    ]);
    await applyLayer(streamOf(tarball), dest);
    assert.equal(fs.readFileSync(path.join(dest, 'a'), 'utf8'), 'first');
    assert.equal(fs.readFileSync(path.join(dest, 'b'), 'utf8'), 'second');
    assert.equal(fs.statSync(path.join(dest, 'a')).nlink, 1);
    assert.equal(fs.readFileSync(path.join(dest, 'd'), 'utf8'), 'now a file');
    assert.equal(fs.readFileSync(path.join(dest, 'e/y'), 'utf8'), 'y');
    assert.equal(fs.statSync(path.join(dest, 'e')).mode & 0o777, 0o711);
    assert.equal(fs.readFileSync(path.join(dest, 'f/keep'), 'utf8'), 'k');
    assert.equal(fs.statSync(path.join(dest, 'f')).mode & 0o777, 0o750);
  });

  it('keeps long names, unusual bytes and non-UTF-8 names byte for byte', async (t) => {
    const dest = tempDir(t);
    const long = `${'x'.repeat(150)}/${'y'.repeat(200)}`;
    const odd = 'sp ace\\back\nnew=line';
    const tarball = await buildTar([
      { name: long, content: 'deep' },
      { name: odd, content: 'odd' },
      { name: 'ünï/çødé', content: 'utf8' },
    ]);
    // A latin-1 name (not valid UTF-8), spliced in as raw bytes: tar-stream can only write UTF-8.
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in latin-1
    const withRaw = await buildTar([{ name: 'cafX', content: 'latin1' }]);
    withRaw[3] = 0xe9;
    fixChecksum(withRaw);
    const both = Buffer.concat([tarball.subarray(0, tarball.length - 1024), withRaw]);
    await applyLayer(streamOf(both), dest);
    assert.equal(fs.readFileSync(path.join(dest, long), 'utf8'), 'deep');
    assert.equal(fs.readFileSync(path.join(dest, odd), 'utf8'), 'odd');
    assert.equal(fs.readFileSync(path.join(dest, 'ünï/çødé'), 'utf8'), 'utf8');
    const names = fs.readdirSync(dest, { encoding: 'buffer' });
    assert.ok(
      names.some((n) => n.equals(latin1)),
      'latin-1 name kept as raw bytes',
    );
  });

  it('restores binary xattrs such as security.capability (GNU tar as an independent writer)', {
    skip: (!have('getfattr') || !have('tar') || !isRoot) && 'needs root, tar and getfattr',
  }, async (t) => {
    const dir = tempDir(t);
    const src = path.join(dir, 'src');
    const dest = path.join(dir, 'dest');
    fs.mkdirSync(src);
    fs.mkdirSync(dest);
    fs.writeFileSync(path.join(src, 'ping'), 'binary');
    // VFS_CAP v2, permitted = cap_setuid (bit 7) + cap_net_raw (bit 13): has a byte >= 0x80
    const cap20 = Buffer.from('0100000280200000000000000000000000000000', 'hex');
    execFileSync('setfattr', [
      '-n',
      'security.capability',
      '-v',
      `0x${cap20.toString('hex')}`,
      path.join(src, 'ping'),
    ]);
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', path.join(src, 'ping')]);
    const tarball = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-cf', '-', '-C', src, '.'], {
      maxBuffer: 1 << 24,
    });
    await applyLayer(streamOf(tarball), dest);
    assert.deepEqual(getXattr(path.join(dest, 'ping'), 'security.capability'), cap20);
    assert.deepEqual(getXattr(path.join(dest, 'ping'), 'user.note'), Buffer.from('hello'));
  });

  it('reads a gzip layer through decompress()', async (t) => {
    const dest = tempDir(t);
    const tarball = await buildTar([{ name: 'hello.txt', content: 'hi' }]);
    await applyLayer(decompress(streamOf(zlib.gzipSync(tarball), 100)), dest);
    assert.equal(fs.readFileSync(path.join(dest, 'hello.txt'), 'utf8'), 'hi');
  });

  it('fails a truncated gzip layer with the gzip error', async (t) => {
    const dest = tempDir(t);
    const tarball = await buildTar([{ name: 'big', content: randomBytes(500_000) }]);
    const gz = zlib.gzipSync(tarball);
    await assert.rejects(
      applyLayer(decompress(streamOf(gz.subarray(0, gz.length / 2))), dest),
      (err: unknown) =>
        err instanceof InvalidArgumentError &&
        err.message.startsWith('layer is not a valid gzip stream: unexpected end of file'),
    );
  });

  it('fails a truncated tar', async (t) => {
    const dest = tempDir(t);
    const tarball = await buildTar([{ name: 'big', content: randomBytes(100_000) }]);
    await assert.rejects(
      applyLayer(streamOf(tarball.subarray(0, 50_000)), dest),
      /layer is not a valid tar stream: unexpected end of data/,
    );
  });

  it('accepts a tar without the end-of-archive blocks, and ignores data after them', async (t) => {
    const dest = tempDir(t);
    const tarball = await buildTar([{ name: 'a', content: 'a' }]);
    await applyLayer(streamOf(tarball.subarray(0, tarball.length - 1024)), dest);
    assert.equal(fs.readFileSync(path.join(dest, 'a'), 'utf8'), 'a');
    const dest2 = tempDir(t);
    await applyLayer(streamOf(Buffer.concat([tarball, Buffer.alloc(10_000, 1)])), dest2);
    assert.deepEqual(fs.readdirSync(dest2), ['a']);
  });

  it('stops on abort', async (t) => {
    const dest = tempDir(t);
    const entries = Array.from({ length: 3000 }, (_, i) => ({ name: `f${i}`, content: 'x'.repeat(100) }));
    const tarball = await buildTar(entries);
    const ac = new AbortController();
    const p = applyLayer(streamOf(tarball, 512), dest, { signal: ac.signal });
    setImmediate(() => ac.abort());
    await assert.rejects(p, { name: 'AbortError' });
    assert.ok(fs.readdirSync(dest).length < 3000);
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(applyLayer(streamOf(tarball), tempDir(t), { signal: pre.signal }), {
      name: 'AbortError',
    });
  });

  // Regression: a failure while the read-ahead waits on a stalled source (a slow registry) must
  // not hang on that source; the input is destroyed instead.
  for (const viaDecompress of [false, true]) {
    it(`fails promptly on a refused entry while the input stalls${viaDecompress ? ' (through decompress)' : ''}`, {
      timeout: 5000,
    }, async (t) => {
      const head = (await buildTar([{ name: '../escape', content: 'x' }])).subarray(0, 1024);
      let pushed = false;
      const input = new Readable({
        read() {
          if (!pushed) this.push(head);
          pushed = true; // and then never anything more, never the end
        },
      });
      await assert.rejects(
        applyLayer(viaDecompress ? decompress(input) : input, tempDir(t)),
        /escapes the layer root/,
      );
      await new Promise((r) => setImmediate(r));
      assert.ok(input.destroyed);
    });
  }

  it('refuses a destination that is not a directory', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, '');
    await assert.rejects(applyLayer(streamOf(await buildTar([])), file), { code: 'LAYER_DEST_INVALID' });
  });
});

/** Recomputes the checksum of the first header block after a test edits it. */
function fixChecksum(tarball: Buffer): void {
  tarball.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tarball[i]!;
  tarball.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}
