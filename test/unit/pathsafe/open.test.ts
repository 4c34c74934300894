// Race-safe in-root file operations (src/pathsafe/open.ts), including a concurrent swap of a
// directory for a symlink that points out of the root.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { mkdirAllInRoot, openInRoot, readFileInRoot, writeFileInRoot } from '../../../src/pathsafe/index.ts';
import { tree } from './resolve.test.ts';

function outsideDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-canary-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'secret'), 'host secret');
  return dir;
}

describe('in-root file operations', () => {
  it('reads and writes through planted links without leaving the root', async (t) => {
    const host = outsideDir(t);
    const root = tree(t, {
      'etc/': '',
      'etc/passwd': '->' + path.join(host, 'secret'),
      escape: '->/',
      [`.${host}/`]: '',
    });
    // The planted absolute link is re-rooted: the host file is never read.
    assert.equal(await readFileInRoot(root, '/etc/passwd'), undefined);
    await writeFileInRoot(root, '/escape/' + path.join(host, 'secret'), 'inside');
    assert.equal(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'host secret');
    assert.equal(fs.readFileSync(path.join(root, host, 'secret'), 'utf8'), 'inside');
    assert.equal((await readFileInRoot(root, 'etc/passwd'))?.toString(), 'inside');
  });

  it('mkdirAll creates inside, follows links inside, refuses a file in the way', async (t) => {
    const host = outsideDir(t);
    const root = tree(t, { l: '->' + host, f: 'file' });
    const r = await mkdirAllInRoot(root, '/l/a/b', { owner: { uid: 0, gid: 0 } });
    assert.equal(r.rel, `${host.slice(1)}/a/b`);
    assert.ok(fs.statSync(path.join(root, host, 'a/b')).isDirectory());
    assert.deepEqual(fs.readdirSync(host), ['secret']);
    assert.deepEqual((await mkdirAllInRoot(root, '/l/a/b')).created, []);
    await assert.rejects(
      mkdirAllInRoot(root, 'f/x'),
      (e: { code?: string }) => e.code === 'PATH_NOT_DIRECTORY',
    );
  });

  it('reports a file used as a directory as ENOTDIR, not as a race', async (t) => {
    const root = tree(t, { f: 'data' });
    const { O_RDONLY, O_DIRECTORY } = fs.constants;
    await assert.rejects(openInRoot(root, 'f/', { flags: O_RDONLY | O_DIRECTORY }), { code: 'ENOTDIR' });
    await assert.rejects(openInRoot(root, 'f/x'), { code: 'ENOTDIR' });
    assert.equal(await readFileInRoot(root, 'f/x'), undefined);
  });

  it('refuses a final symlink when told not to follow it', async (t) => {
    const root = tree(t, { l: '->x', x: 'data' });
    await assert.rejects(
      openInRoot(root, 'l', { followFinal: false }),
      (e: { code?: string }) => e.code === 'PATH_IS_SYMLINK',
    );
    const { handle } = await openInRoot(root, 'l');
    assert.equal((await handle.readFile()).toString(), 'data');
    await handle.close();
  });

  it('never ends outside while a directory is swapped for a link to the host', async (t) => {
    const host = outsideDir(t);
    const root = tree(t, { 'd/': '', 'd/f': 'inside' });
    fs.symlinkSync(host, path.join(root, 'swap'));
    // A separate process exchanges d and swap atomically (renameat2 RENAME_EXCHANGE), bounded
    // in both count and time, while this one resolves, reads, writes and creates under d.
    const swapper = spawn('python3', [
      '-c',
      `import ctypes,os,sys,time
libc=ctypes.CDLL(None,use_errno=True)
a=os.fsencode(sys.argv[1]+'/d'); b=os.fsencode(sys.argv[1]+'/swap')
end=time.time()+3; n=0
while n<300000 and time.time()<end:
  libc.renameat2(-100,a,-100,b,2); n+=1
print(n)`,
      root,
    ]);
    let swaps = '';
    swapper.stdout.on('data', (d) => (swaps += d));
    const exited = new Promise((res) => swapper.on('exit', res));
    t.after(() => swapper.kill('SIGKILL'));
    let ok = 0;
    let raced = 0;
    const deadline = Date.now() + 2500;
    for (let i = 0; i < 3000 && Date.now() < deadline; i++) {
      try {
        const data = await readFileInRoot(root, 'd/secret');
        assert.equal(data, undefined, 'read the host file through the swapped link');
        await writeFileInRoot(root, `d/w${i}`, 'x');
        await mkdirAllInRoot(root, `d/m${i}/n`);
        ok++;
      } catch (err) {
        if ((err as { code?: string }).code !== 'PATH_RACE' && (err as { code?: string }).code !== 'ENOENT')
          throw err;
        raced++;
      }
    }
    await exited;
    t.diagnostic(`${swaps.trim()} swaps, ${ok} rounds done, ${raced} refused as racing`);
    assert.ok(Number(swaps) > 100, `the swapper ran (${swaps.trim()} swaps)`);
    assert.ok(ok + raced > 10);
    assert.deepEqual(fs.readdirSync(host), ['secret'], 'nothing was created outside the root');
    assert.equal(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'host secret');
  });
});
