// extractContext: a build context tar (plain or gzip) unpacked safely. Hostile archives are
// refused with an InvalidArgumentError naming the entry, and nothing outside the destination
// is created or changed.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { checksumSources, fileIdentity } from '../../../src/build/context/checksum.ts';
import { extractContext } from '../../../src/build/context/extract.ts';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';
import { type Entry, makeTar } from '../../helpers/tarballs.ts';
import { buildTar, have, isRoot, sandbox, snapshot, streamOf } from '../archive/helpers.ts';

type Box = ReturnType<typeof sandbox>;

async function expectRefused(
  t: Parameters<typeof sandbox>[0],
  entries: Entry[],
  message: RegExp,
): Promise<Box> {
  const box = sandbox(t);
  const before = snapshot(box.outside);
  const siblings = fs.readdirSync(box.root).sort();
  const passwd = fs.statSync('/etc/passwd');
  await assert.rejects(extractContext(streamOf(await makeTar(entries)), box.dest), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.match(err.message, message);
    assert.match(err.code, /^BUILD_CONTEXT_/);
    return true;
  });
  assert.deepEqual(snapshot(box.outside), before, 'outside directory unchanged');
  assert.deepEqual(fs.readdirSync(box.root).sort(), siblings, 'nothing created next to dest');
  const after = fs.statSync('/etc/passwd');
  assert.deepEqual([after.nlink, after.mtimeMs], [passwd.nlink, passwd.mtimeMs]);
  return box;
}

describe('extractContext', () => {
  it('extracts files, directories, links with modes, times and owners; gzip detected by magic', async (t) => {
    const tar = await buildTar([
      { name: 'Dockerfile', content: 'FROM scratch\n', mode: 0o600, mtime: new Date(1_500_000_000_000) },
      { name: 'src/', type: 'directory', mode: 0o750, mtime: new Date(1_400_000_000_000) },
      { name: 'src/run.sh', content: '#!/bin/sh\n', mode: 0o755, uid: 1234, gid: 5678 },
      { name: 'src/link', type: 'symlink', linkname: 'run.sh' },
      { name: 'src/abs', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'src/hard', type: 'link', linkname: 'src/run.sh' },
      { name: '.wh.notawhiteout', content: 'x' },
    ]);
    for (const [label, body] of [
      ['plain', tar],
      ['gzip', gzipSync(tar)],
    ] as const) {
      const box = sandbox(t);
      const r = await extractContext(streamOf(body, 100), box.dest);
      assert.deepEqual(r, { files: 7, bytes: 13 + 10 + 1 }, label);
      const snap = snapshot(box.dest);
      assert.equal(snap.Dockerfile?.mode, 0o600);
      assert.equal(snap.Dockerfile?.mtime, 1_500_000_000);
      assert.equal(snap.src?.mode, 0o750);
      assert.equal(snap.src?.mtime, 1_400_000_000);
      assert.equal(snap['src/run.sh']?.mode, 0o755);
      assert.equal(snap['src/run.sh']?.nlink, 2, 'hard link within the context');
      assert.equal(snap['src/link']?.target, 'run.sh');
      assert.equal(snap['src/abs']?.target, '/etc/passwd', 'absolute symlink targets are kept, not followed');
      assert.equal(snap['.wh.notawhiteout']?.type, 'file');
      if (isRoot) assert.deepEqual([snap['src/run.sh']?.uid, snap['src/run.sh']?.gid], [1234, 5678]);
    }
  });

  it('makes absolute names relative to the context root, as Docker does', async (t) => {
    const box = sandbox(t);
    const tar = await makeTar([
      { name: '/etc/app.conf', body: 'a' },
      { name: '/../../up.txt', body: 'b' },
      { name: '/etc/hard', type: 'link', linkname: '/etc/app.conf' },
    ]);
    await extractContext(streamOf(tar), box.dest);
    assert.equal(fs.readFileSync(path.join(box.dest, 'etc/app.conf'), 'utf8'), 'a');
    assert.equal(fs.readFileSync(path.join(box.dest, 'up.txt'), 'utf8'), 'b');
    assert.equal(fs.statSync(path.join(box.dest, 'etc/hard')).nlink, 2);
  });

  it('refuses ../ entries', async (t) => {
    await expectRefused(
      t,
      [{ name: '../outside/evil', body: 'x' }],
      /"\.\.\/outside\/evil".*escapes the build context root/,
    );
    await expectRefused(t, [{ name: 'a/../../outside/evil', body: 'x' }], /escapes the build context root/);
  });

  it('refuses writing through a symlink that points outside (absolute target)', async (t) => {
    const box = sandbox(t);
    const before = snapshot(box.outside);
    const tar = await makeTar([
      { name: 'esc', type: 'symlink', linkname: box.outside },
      { name: 'esc/secret', body: 'overwritten' },
    ]);
    await assert.rejects(extractContext(streamOf(tar), box.dest), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /"esc\/secret".*parent "esc" is a symlink/);
      return true;
    });
    assert.deepEqual(snapshot(box.outside), before);
    assert.equal(fs.readFileSync(path.join(box.outside, 'secret'), 'utf8'), 'do not touch');
  });

  it('keeps symlinks that climb out of the context verbatim (as Docker does), never followed', async (t) => {
    const box = sandbox(t);
    const before = snapshot(box.outside);
    const tar = await makeTar([
      { name: 'd/', type: 'directory' },
      { name: 'd/esc', type: 'symlink', linkname: '../../outside' },
      { name: 'd/deep', type: 'symlink', linkname: '../../../../../../../../../../etc/passwd' },
      { name: 'up', type: 'symlink', linkname: '..' },
      { name: 'abs', type: 'symlink', linkname: box.outside },
    ]);
    const r = await extractContext(streamOf(tar), box.dest);
    assert.equal(r.files, 5);
    const snap = snapshot(box.dest);
    assert.equal(snap['d/esc']?.target, '../../outside');
    assert.equal(snap['d/deep']?.target, '../../../../../../../../../../etc/passwd');
    assert.equal(snap.up?.target, '..');
    assert.equal(snap.abs?.target, box.outside);
    assert.deepEqual(snapshot(box.outside), before);
  });

  it('refuses writing through a symlink that climbs out, or through a directory turned into one', async (t) => {
    await expectRefused(
      t,
      [
        { name: 'd/', type: 'directory' },
        { name: 'd/esc', type: 'symlink', linkname: '../../outside' },
        { name: 'd/esc/secret', body: 'overwritten' },
      ],
      /"d\/esc\/secret".*parent "d\/esc" is a symlink/,
    );
    await expectRefused(
      t,
      [
        { name: 'd/', type: 'directory' },
        { name: 'd/x', body: 'first' },
        { name: 'd', type: 'symlink', linkname: '../outside' },
        { name: 'd/secret', body: 'overwritten' },
      ],
      /"d\/secret".*parent "d" is a symlink/,
    );
    await expectRefused(
      t,
      [
        { name: 'esc', type: 'symlink', linkname: '../outside' },
        { name: 'h', type: 'link', linkname: 'esc/secret' },
      ],
      /"h".*passes through a symlink/,
    );
  });

  it('refuses hard links to files outside the context', async (t) => {
    await expectRefused(
      t,
      [{ name: 'h', type: 'link', linkname: '../outside/secret' }],
      /"h".*hard link target escapes/,
    );
    // Absolute targets are made relative: /etc/passwd is looked up inside the context.
    await expectRefused(
      t,
      [{ name: 'p', type: 'link', linkname: '/etc/passwd' }],
      /"p".*does not exist in the build context/,
    );
    await expectRefused(
      t,
      [
        { name: 'l', type: 'symlink', linkname: '/etc' },
        { name: 'h', type: 'link', linkname: 'l/passwd' },
      ],
      /"h".*passes through a symlink/,
    );
  });

  it('refuses device nodes', async (t) => {
    await expectRefused(
      t,
      [{ name: 'null', type: 'character-device' }],
      /"null".*device nodes are not allowed/,
    );
  });

  it('refuses input that is not a tar, and corrupt compressed input, with a clear message', async (t) => {
    const box = sandbox(t);
    await assert.rejects(
      extractContext(streamOf(Buffer.from('FROM busybox\nRUN true\n'.repeat(40))), box.dest),
      (err: unknown) =>
        err instanceof InvalidArgumentError && /build context is not a valid tar/.test(err.message),
    );
    for (const [tool, bytes] of [
      ['bzip2', 'BZh91AY&SY....'],
      ['xz', '\xfd7zXZ\x00garbage'],
    ] as const) {
      if (!have(tool)) continue;
      await assert.rejects(
        extractContext(streamOf(Buffer.from(bytes, 'latin1')), sandbox(t).dest),
        (err: unknown) =>
          err instanceof InvalidArgumentError &&
          err.message.startsWith(`build context is not a valid ${tool} stream:`),
        tool,
      );
    }
  });

  for (const tool of ['bzip2', 'xz', 'zstd'] as const) {
    it(`accepts a ${tool}-compressed context (the Engine API allows it)`, {
      skip: !have(tool) && `${tool} not installed`,
    }, async (t) => {
      const tar = await makeTar([
        { name: 'Dockerfile', body: 'FROM scratch\n' },
        { name: 'big', body: Buffer.alloc(300_000, 9) },
      ]);
      const box = sandbox(t);
      const r = await extractContext(streamOf(execFileSync(tool, ['-c'], { input: tar }), 1000), box.dest);
      assert.deepEqual(r, { files: 2, bytes: 13 + 300_000 });
      assert.ok(fs.readFileSync(path.join(box.dest, 'big')).equals(Buffer.alloc(300_000, 9)));
    });
  }
});

describe('extractContext: archives as the docker CLI sends them', () => {
  it('accepts a last entry without padding or end blocks (docker build -f outside the context)', async (t) => {
    const full = await makeTar([
      { name: 'a.txt', body: 'a\n' },
      { name: '.dockerignore', body: '.dockerignore\n.dockerfile.x\n' },
    ]);
    // header(512) + a.txt content block(512) + header(512) + 28 bytes of content, then EOF
    const truncated = full.subarray(0, 512 * 3 + 28);
    const box = sandbox(t);
    assert.deepEqual(await extractContext(streamOf(truncated, 100), box.dest), { files: 2, bytes: 30 });
    assert.equal(
      fs.readFileSync(path.join(box.dest, '.dockerignore'), 'utf8'),
      '.dockerignore\n.dockerfile.x\n',
    );
    // Content cut short, or padding cut in the middle, is still a truncated archive.
    for (const cut of [512 * 3 + 27, 512 * 3 + 100]) {
      await assert.rejects(
        extractContext(streamOf(full.subarray(0, cut)), sandbox(t).dest),
        /unexpected end of data/,
      );
    }
  });
});

describe('extractContext: file digests taken while extracting', () => {
  it('records the sha256 of every file under the key checksumSources looks up, and the sums agree', async (t) => {
    const box = sandbox(t);
    const big = Buffer.alloc(3 << 20, 7); // above the extractor's whole-file limit: streamed
    const entries: Entry[] = [
      { name: 'a.txt', body: 'hello\n' },
      { name: 'd/', type: 'directory' },
      { name: 'd/big.bin', body: big },
      { name: 'd/link', type: 'link', linkname: 'a.txt' },
      { name: 'dup', body: 'first' },
      { name: 'dup', body: 'later' },
    ];
    const digests = new Map<string, string>();
    await extractContext(streamOf(await makeTar(entries)), box.dest, { digests });
    const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
    for (const [rel, body] of [
      ['d/big.bin', big],
      ['dup', 'later'],
    ] as const) {
      const key = fileIdentity(fs.lstatSync(path.join(box.dest, rel), { bigint: true }));
      assert.equal(digests.get(key), sha(body), rel);
    }
    // The recorded digests give the same source checksum as reading every file again.
    const seeded = await checksumSources(box.dest, ['.'], { cache: digests });
    const fresh = await checksumSources(box.dest, ['.'], {});
    assert.equal(seeded, fresh);
    // And a file changed after extraction is read again, not taken from the record.
    fs.writeFileSync(path.join(box.dest, 'dup'), 'other');
    assert.notEqual(await checksumSources(box.dest, ['dup'], { cache: digests }), seeded);
    assert.equal(
      await checksumSources(box.dest, ['dup'], { cache: digests }),
      await checksumSources(box.dest, ['dup'], {}),
    );
  });
});
