// Pure parts of the container filesystem operations: Docker's path rules, Go file modes, the
// commit config merge, and the changes walk over real overlay-style directories.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { absContainerPath, goBase, goFileMode, statContainerPath } from '../../../src/containers/archive.ts';
import { acquireRootfs, Freezers, releaseRootfs, rootfsBusy } from '../../../src/containers/rootfs-users.ts';
import { berthMountPoints, containerChanges } from '../../../src/containers/changes.ts';
import { mergeConfig } from '../../../src/images/commit.ts';

function tempDir(t: TestContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fsops-unit-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

const isRoot = process.getuid?.() === 0;

describe('container paths', () => {
  it('absContainerPath cleans but keeps a trailing / or /.', () => {
    assert.equal(absContainerPath('etc'), '/etc');
    assert.equal(absContainerPath('/etc/'), '/etc/');
    assert.equal(absContainerPath('/etc/.'), '/etc/.');
    assert.equal(absContainerPath('/../../etc/passwd'), '/etc/passwd');
    assert.equal(absContainerPath('/'), '/');
    assert.equal(absContainerPath('/.'), '/.');
  });

  it('goBase is Go filepath.Base', () => {
    assert.equal(goBase('/etc/passwd'), 'passwd');
    assert.equal(goBase('/etc/'), 'etc');
    assert.equal(goBase('/etc/.'), '.');
    assert.equal(goBase('/'), '/');
  });

  it('goFileMode sets Go type bits', (t) => {
    const d = tempDir(t);
    fs.writeFileSync(path.join(d, 'f'), '');
    fs.chmodSync(path.join(d, 'f'), 0o4755);
    fs.symlinkSync('f', path.join(d, 'l'));
    assert.equal(goFileMode(fs.lstatSync(path.join(d, 'f'))), 2 ** 23 + 0o755);
    assert.equal(goFileMode(fs.lstatSync(path.join(d, 'l'))), 2 ** 27 + 0o777);
    assert.equal(goFileMode(fs.lstatSync(d)), 2 ** 31 + (fs.lstatSync(d).mode & 0o777));
  });

  it('statContainerPath confines .. and symlinks to the root and reports link targets', async (t) => {
    const root = tempDir(t);
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0\n');
    fs.symlinkSync('/etc', path.join(root, 'hostetc'));
    fs.symlinkSync('../../../../../..', path.join(root, 'up'));
    const s = await statContainerPath(root, '/up/etc/passwd', 'ctr');
    assert.equal(s.hostPath, path.join(root, 'etc/passwd'));
    assert.equal(s.stat.size, 11);
    const link = await statContainerPath(root, '/hostetc', 'ctr');
    assert.equal(link.stat.linkTarget, '/etc');
    assert.equal(link.stat.name, 'hostetc');
    await assert.rejects(
      statContainerPath(root, '/nope', 'ctr'),
      /Could not find the file \/nope in container ctr/,
    );
  });
});

describe('commit config merge', () => {
  it('what the user set wins; empty fields and env come from the container', () => {
    const ctr = {
      Cmd: ['sh'],
      Env: ['PATH=/bin', 'A=1'],
      WorkingDir: '/w',
      User: 'nobody',
      Labels: { a: '1' },
    };
    const m = mergeConfig({ Cmd: ['cat', '/x'], Env: ['A=2'], Labels: { b: '2' } }, ctr);
    assert.deepEqual(m.Cmd, ['cat', '/x']);
    assert.deepEqual(m.Env, ['A=2', 'PATH=/bin']);
    assert.equal(m.WorkingDir, '/w');
    assert.equal(m.User, 'nobody');
    assert.deepEqual(m.Labels, { a: '1', b: '2' });
    assert.deepEqual(mergeConfig({}, ctr).Cmd, ['sh']);
    // an Entrypoint set by the user keeps the container's Cmd out
    assert.equal(mergeConfig({ Entrypoint: ['/e'] }, ctr).Cmd, undefined);
  });
});

describe('containerChanges', () => {
  // Needs root: the fixture makes overlay whiteouts (0:0 character devices) and sets the
  // trusted.overlay.opaque xattr. CI and the README's test command run as root, so it runs there.
  it('reports A/C/D in walk order with the parent of an add or delete', {
    skip: !isRoot && 'needs root (whiteout devices, trusted.* xattrs)',
  }, async (t) => {
    const d = tempDir(t);
    const lower = path.join(d, 'lower');
    const upper = path.join(d, 'upper');
    for (const p of ['etc', 'bin', 'opt/old']) fs.mkdirSync(path.join(lower, p), { recursive: true });
    fs.writeFileSync(path.join(lower, 'etc/group'), 'g');
    fs.writeFileSync(path.join(lower, 'bin/ls'), 'ls');
    fs.writeFileSync(path.join(lower, 'opt/old/f'), 'f');
    for (const p of ['etc', 'bin', 'opt', 'new/dir']) fs.mkdirSync(path.join(upper, p), { recursive: true });
    for (const p of ['etc', 'bin', 'opt'])
      fs.chmodSync(path.join(upper, p), fs.statSync(path.join(lower, p)).mode);
    fs.writeFileSync(path.join(upper, 'etc/group'), 'changed');
    execFileSync('mknod', [path.join(upper, 'bin/ls'), 'c', '0', '0']);
    fs.mkdirSync(path.join(upper, 'opt/old'));
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(upper, 'opt/old')]);
    fs.writeFileSync(path.join(upper, 'new/dir/f'), 'n');
    const changes = (await containerChanges(upper, [lower])).map((c) => `${'CAD'[c.Kind]} ${c.Path}`);
    assert.deepEqual(changes, [
      'C /bin',
      'D /bin/ls',
      'C /etc/group',
      'A /new',
      'A /new/dir',
      'A /new/dir/f',
      'C /opt',
      'D /opt/old',
    ]);
  });

  it('Berth mount points are skipped only while empty and absent from the image', async (t) => {
    const d = tempDir(t);
    const lower = path.join(d, 'lower');
    const upper = path.join(d, 'upper');
    fs.mkdirSync(path.join(lower, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(lower, 'etc/hosts'), 'from the image');
    fs.mkdirSync(path.join(upper, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(upper, 'etc/hostname'), '');
    fs.writeFileSync(path.join(upper, 'etc/hosts'), '');
    fs.writeFileSync(path.join(upper, 'etc/resolv.conf'), 'user wrote this');
    const skip = await berthMountPoints(upper, [lower]);
    assert.deepEqual([...skip], ['/etc/hostname']);
  });
});

describe('rootfs users', () => {
  it('counts users per container dir; busy until the last one releases', () => {
    const dir = `/nonexistent/${process.pid}/ctr`;
    assert.equal(rootfsBusy(dir), false);
    assert.equal(acquireRootfs(dir), 1);
    assert.equal(acquireRootfs(dir), 2);
    assert.equal(releaseRootfs(dir), 1);
    assert.equal(rootfsBusy(dir), true);
    assert.equal(releaseRootfs(dir), 0);
    assert.equal(rootfsBusy(dir), false);
    assert.equal(releaseRootfs(dir), 0, 'an extra release never goes negative');
  });
});

describe('Freezers', () => {
  it('pauses on the first enter and resumes on the last leave only', async () => {
    const calls: string[] = [];
    const f = new Freezers();
    const pause = async () => void calls.push('pause');
    const resume = async () => void calls.push('resume');
    await f.enter('a', pause);
    await f.enter('a', pause);
    await f.leave('a', resume);
    assert.deepEqual(calls, ['pause']);
    await f.leave('a', resume);
    assert.deepEqual(calls, ['pause', 'resume']);
  });
});
