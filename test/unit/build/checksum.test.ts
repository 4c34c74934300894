// COPY/ADD source checksums (cache keys) and source wildcard expansion.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { checksumSources, expandSourcePattern } from '../../../src/build/context/checksum.ts';
import { confineRelative, resolveInRoot } from '../../../src/build/context/scope.ts';
import { NotFoundError } from '../../../src/errdefs/index.ts';

const isRoot = process.getuid?.() === 0;

function tree(t: TestContext, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sum-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [rel, body] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (body.startsWith('->')) fs.symlinkSync(body.slice(2), p);
    else fs.writeFileSync(p, body);
  }
  return dir;
}

const FILES = {
  'a.txt': 'alpha',
  'src/main.go': 'package main',
  'src/util/x.go': 'x',
  'src/link': '->main.go',
};

describe('checksumSources', () => {
  it('is the same for the same content with other mtimes, and in another directory', async (t) => {
    const one = tree(t, FILES);
    const two = tree(t, FILES);
    fs.utimesSync(path.join(two, 'a.txt'), 1000, 1000);
    fs.utimesSync(path.join(two, 'src'), 2000, 2000);
    fs.lutimesSync(path.join(two, 'src/link'), 3000, 3000);
    const a = await checksumSources(one, ['a.txt', 'src']);
    assert.match(a, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await checksumSources(two, ['a.txt', 'src']), a);
  });

  it('changes with content, mode, names, symlink targets and the sources listed', async (t) => {
    const dir = tree(t, FILES);
    const sum = () => checksumSources(dir, ['a.txt', 'src']);
    const seen = new Set<string>([await sum()]);
    const expectNew = async (what: string): Promise<void> => {
      const s = await sum();
      assert.ok(!seen.has(s), `${what} must change the checksum`);
      seen.add(s);
    };
    fs.writeFileSync(path.join(dir, 'src/util/x.go'), 'y');
    await expectNew('content');
    fs.chmodSync(path.join(dir, 'a.txt'), 0o600);
    await expectNew('file mode');
    fs.chmodSync(path.join(dir, 'src/util'), 0o700);
    await expectNew('directory mode');
    fs.renameSync(path.join(dir, 'src/util/x.go'), path.join(dir, 'src/util/z.go'));
    await expectNew('a rename');
    fs.unlinkSync(path.join(dir, 'src/link'));
    fs.symlinkSync('util', path.join(dir, 'src/link'));
    await expectNew('a symlink target');
    fs.mkdirSync(path.join(dir, 'src/empty'));
    await expectNew('an empty directory');
    assert.notEqual(await checksumSources(dir, ['src', 'a.txt']), await sum(), 'source order');
    assert.notEqual(await checksumSources(dir, ['src']), await sum(), 'fewer sources');
  });

  it('changes with the owner', { skip: !isRoot && 'chown needs root' }, async (t) => {
    const dir = tree(t, FILES);
    const before = await checksumSources(dir, ['.']);
    fs.lchownSync(path.join(dir, 'src/main.go'), 1234, 1234);
    assert.notEqual(await checksumSources(dir, ['.']), before);
  });

  it('follows a symlinked source inside the root, records symlinks below a source', async (t) => {
    const dir = tree(t, { 'real/f': 'data', via: '->real', abs: '->/real' });
    const real = await checksumSources(dir, ['real']);
    assert.equal(await checksumSources(dir, ['via']), real);
    // An absolute target is read inside the context root, never on the host.
    assert.equal(await checksumSources(dir, ['abs']), real);
  });

  it('links out of the root: recorded by target below a source, followed in scope as a source', async (t) => {
    const host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sum-host-'));
    t.after(() => fs.rmSync(host, { recursive: true, force: true }));
    fs.writeFileSync(path.join(host, 'secret'), 'host');
    const dir = tree(t, {
      'd/f': 'x',
      'd/abs': `->${host}/secret`,
      'd/up': '->../../secret',
      top: `->${host}/secret`,
    });
    const sum = () => checksumSources(dir, ['d']);
    const before = await sum();
    // The host file is never read: changing it changes nothing.
    fs.writeFileSync(path.join(host, 'secret'), 'changed on the host');
    assert.equal(await sum(), before);
    // A new target does.
    fs.unlinkSync(path.join(dir, 'd/up'));
    fs.symlinkSync('../../other', path.join(dir, 'd/up'));
    assert.notEqual(await sum(), before);
    // As a source, the link means <root><host>/secret: missing, whatever the host has there.
    await assert.rejects(
      checksumSources(dir, ['top']),
      (err: unknown) => err instanceof NotFoundError && err.message.includes('"top"'),
    );
    fs.mkdirSync(path.join(dir, host), { recursive: true });
    fs.writeFileSync(path.join(dir, host, 'secret'), 'host');
    const scoped = await checksumSources(dir, ['top']);
    fs.writeFileSync(path.join(dir, host, 'secret'), 'in the context');
    assert.notEqual(await checksumSources(dir, ['top']), scoped, 'the in-context target is what counts');
  });

  it('a big file (streamed) and a shared cache give the same digests', async (t) => {
    const big = Buffer.alloc(3 << 20, 7);
    const dir = tree(t, {});
    fs.writeFileSync(path.join(dir, 'big'), big);
    fs.linkSync(path.join(dir, 'big'), path.join(dir, 'big2'));
    const cache = new Map<string, string>();
    const first = await checksumSources(dir, ['big', 'big2'], { cache });
    assert.equal(cache.size, 1, 'one inode hashed once');
    assert.equal(await checksumSources(dir, ['big', 'big2'], { cache }), first);
    assert.equal(await checksumSources(dir, ['big', 'big2']), first);
  });

  it('skip leaves paths out (COPY --exclude)', async (t) => {
    const dir = tree(t, { 'src/a.go': 'a', 'src/b.txt': 'b', 'src/sub/c.txt': 'c' });
    const skipTxt = { skip: (p: string) => p.endsWith('.txt') };
    const seen: string[] = [];
    const before = await checksumSources(dir, ['src'], {
      skip: (p) => {
        seen.push(p);
        return p.endsWith('.txt');
      },
    });
    assert.deepEqual(seen, ['src/a.go', 'src/b.txt', 'src/sub', 'src/sub/c.txt']);
    fs.writeFileSync(path.join(dir, 'src/b.txt'), 'changed');
    fs.writeFileSync(path.join(dir, 'src/sub/c.txt'), 'changed');
    assert.equal(await checksumSources(dir, ['src'], skipTxt), before, 'excluded files do not count');
    fs.writeFileSync(path.join(dir, 'src/a.go'), 'changed');
    assert.notEqual(await checksumSources(dir, ['src'], skipTxt), before);
  });

  it('a missing source is a NotFoundError naming it', async (t) => {
    const dir = tree(t, FILES);
    await assert.rejects(
      checksumSources(dir, ['nope.txt']),
      (err: unknown) => err instanceof NotFoundError && err.message.includes('"nope.txt"'),
    );
  });
});

describe('expandSourcePattern', () => {
  it('matches filepath.Match per component, sorted; no match is empty', async (t) => {
    const dir = tree(t, {
      'hom.txt': '',
      'home.txt': '',
      'homer.txt': '',
      'src/a.go': '',
      'src/b.go': '',
      'src/c.ts': '',
      'lib/x.go': '',
      'lib/sub/y.go': '',
    });
    assert.deepEqual(await expandSourcePattern(dir, 'hom*'), ['hom.txt', 'home.txt', 'homer.txt']);
    assert.deepEqual(await expandSourcePattern(dir, 'hom?.txt'), ['home.txt']);
    assert.deepEqual(await expandSourcePattern(dir, '*/*.go'), ['lib/x.go', 'src/a.go', 'src/b.go']);
    assert.deepEqual(await expandSourcePattern(dir, 'src/[ab].go'), ['src/a.go', 'src/b.go']);
    assert.deepEqual(await expandSourcePattern(dir, '*.none'), []);
    assert.deepEqual(await expandSourcePattern(dir, 'missing'), []);
    assert.deepEqual(await expandSourcePattern(dir, 'src'), ['src']);
    assert.deepEqual(await expandSourcePattern(dir, '.'), ['.']);
  });

  it('confines .. and absolute sources to the context root', async (t) => {
    const dir = tree(t, { 'x.txt': 'in', 'sub/y.txt': 'in' });
    assert.deepEqual(await expandSourcePattern(dir, '../x.txt'), ['x.txt']);
    assert.deepEqual(await expandSourcePattern(dir, '/x.txt'), ['x.txt']);
    assert.deepEqual(await expandSourcePattern(dir, '../../*.txt'), ['x.txt']);
    assert.deepEqual(await expandSourcePattern(dir, 'sub/../../sub/*'), ['sub/y.txt']);
    // The host's /etc/passwd is not in the context.
    assert.deepEqual(await expandSourcePattern(dir, '/etc/passwd'), []);
    assert.deepEqual(await expandSourcePattern(dir, '../../../../etc/pass*'), []);
  });
});

describe('resolveInRoot', () => {
  it('treats the root as / for symlinks: absolute targets and .. stay inside', (t) => {
    const dir = tree(t, { 'etc/passwd': 'fake', up: '->../../../etc', abs: '->/etc/passwd', loop: '->loop' });
    assert.equal(resolveInRoot(dir, 'up/passwd').rel, 'etc/passwd');
    assert.equal(resolveInRoot(dir, 'abs').rel, 'etc/passwd');
    assert.equal(resolveInRoot(dir, 'abs', false).rel, 'abs');
    assert.equal(resolveInRoot(dir, 'nope/x').stat, undefined);
    assert.throws(() => resolveInRoot(dir, 'loop'), /too many levels of symbolic links/);
    assert.equal(confineRelative('/../a/./b/'), 'a/b');
    assert.equal(confineRelative('..'), '.');
  });
});
