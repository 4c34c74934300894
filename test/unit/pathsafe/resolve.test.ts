// In-root resolution (src/pathsafe/resolve.ts): the root acts as `/` for every component.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import {
  cleanRelative,
  MAX_SYMLINKS,
  resolveInRoot,
  resolveInRootSync,
} from '../../../src/pathsafe/index.ts';

/** A temp tree; values starting with `->` are symlinks, `/` at the end of a key is a directory. */
export function tree(t: TestContext, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pathsafe-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [rel, body] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(rel.endsWith('/') ? p : path.dirname(p), { recursive: true });
    if (rel.endsWith('/')) continue;
    if (body.startsWith('->')) fs.symlinkSync(body.slice(2), p);
    else fs.writeFileSync(p, body);
  }
  return dir;
}

/** Both drivers must agree on every case. */
async function both(root: string, p: string, followFinal = true): Promise<string> {
  const a = resolveInRootSync(root, p, { followFinal });
  const b = await resolveInRoot(root, p, { followFinal });
  assert.equal(a.rel, b.rel, `sync and async disagree on ${p}`);
  assert.equal(a.abs, path.join(root, a.rel === '.' ? '' : a.rel));
  return a.rel;
}

describe('resolveInRoot', () => {
  it('never climbs above the root with ..', async (t) => {
    const root = tree(t, { 'etc/passwd': 'fake' });
    assert.equal(await both(root, '../../../etc/passwd'), 'etc/passwd');
    assert.equal(await both(root, '/../..'), '.');
    assert.equal(await both(root, 'etc/../../..'), '.');
  });

  it('re-roots absolute link targets and relative ones that climb out', async (t) => {
    const root = tree(t, {
      'etc/shadow': 'fake',
      abs: '->/etc',
      up: '->../../../../etc',
      'd/abs2': '->/etc/shadow',
    });
    assert.equal(await both(root, 'abs/shadow'), 'etc/shadow');
    assert.equal(await both(root, 'up/shadow'), 'etc/shadow');
    assert.equal(await both(root, 'd/abs2'), 'etc/shadow');
    const r = await resolveInRoot(root, 'abs/shadow');
    assert.equal(fs.readFileSync(r.abs, 'utf8'), 'fake');
  });

  it('applies .. after a symlink to the link target, not lexically', async (t) => {
    const root = tree(t, { 'a/b/c/': '', 'a/x': 'x', link: '->a/b/c', 'rel/': '', 'rel/l': '->../a/b' });
    assert.equal(await both(root, 'link/..'), 'a/b');
    assert.equal(await both(root, 'link/../../x'), 'a/x');
    assert.equal(await both(root, 'rel/l/../../../../..'), '.');
  });

  it('follows chains of links', async (t) => {
    const root = tree(t, { 'real/f': 'data', l1: '->l2', l2: '->/l3', l3: '->real', 'real/l4': '->../l1/f' });
    assert.equal(await both(root, 'l1/f'), 'real/f');
    assert.equal(await both(root, 'real/l4'), 'real/f');
  });

  it('fails with ELOOP on loops and beyond 40 hops, as the kernel does', async (t) => {
    const links: Record<string, string> = { loop: '->loop', a: '->b', b: '->a', end: '' };
    for (let i = 0; i <= MAX_SYMLINKS; i++) links[`c${i}`] = `->c${i + 1}`;
    links[`c${MAX_SYMLINKS + 1}`] = 'end';
    const root = tree(t, links);
    for (const p of ['loop', 'a/x', 'c0']) {
      assert.throws(() => resolveInRootSync(root, p), /too many levels of symbolic links/);
      await assert.rejects(resolveInRoot(root, p), (e: { code?: string }) => e.code === 'PATH_SYMLINK_LOOP');
    }
    // Exactly 40 hops are fine.
    assert.equal(await both(root, 'c1'), `c${MAX_SYMLINKS + 1}`);
  });

  it('keeps dangling links inside: the missing target is named under the root', async (t) => {
    const root = tree(t, { dangle: '->/tmp/berth-nowhere/x', 'd/': '' });
    const r = await resolveInRoot(root, 'dangle');
    assert.equal(r.rel, 'tmp/berth-nowhere/x');
    assert.equal(r.stat, undefined);
    assert.equal((await resolveInRoot(root, 'nope/../d')).rel, 'd');
    assert.equal((await resolveInRoot(root, 'd/missing/deeper')).stat, undefined);
  });

  it('does not follow the final component when asked, but a trailing / forces it', async (t) => {
    const root = tree(t, { 'etc/': '', abs: '->/etc', f: 'x', viafile: '->f' });
    const r = await resolveInRoot(root, 'abs', { followFinal: false });
    assert.equal(r.rel, 'abs');
    assert.ok(r.stat?.isSymbolicLink());
    assert.equal(await both(root, 'abs/', false), 'etc');
    assert.equal(await both(root, 'abs/.', false), 'etc');
    // Only the last component is left alone.
    assert.equal(await both(root, 'abs/../viafile', false), 'viafile');
    assert.equal(await both(root, 'file/x'), 'file/x');
  });

  it('refuses NUL bytes and over-long names with a 400-class error', async (t) => {
    const root = tree(t, { 'd/': '' });
    await assert.rejects(resolveInRoot(root, 'd/a\0b'), (e: { code?: string }) => e.code === 'PATH_INVALID');
    assert.throws(
      () => resolveInRootSync(root, `d/${'x'.repeat(300)}`),
      (e: { code?: string }) => e.code === 'PATH_TOO_LONG',
    );
  });

  it('cleans lexically for names that are not looked up', () => {
    assert.equal(cleanRelative('/../a/./b/'), 'a/b');
    assert.equal(cleanRelative('..'), '.');
    assert.equal(cleanRelative(''), '.');
    assert.equal(cleanRelative('//x//y'), 'x/y');
  });
});
