// `docker cp` onto a file bound into the container — berthd's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, and a user's `-v /host/file:/etc/x` — writes through the bind, where the
// container's processes read it, not into the rootfs file the bind hides; whatever the form
// (`f ctr:/etc/`, `f ctr:/etc/hosts`, a tar into `/`). A read-only bind and a directory in the
// place of a bound file are refused; nothing staged is left in the container.
// The same for directory mounts (a named volume, a bind nested in it, a read-only bind), in and
// out, running and stopped: entries land in the mount's source, where the container sees them;
// a read-only mount is refused by name; hostile entries (`..`, symlinks out of the mount) are
// refused with nothing written outside.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { tarOfFiles } from '../../src/archive/index.ts';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-cpbind-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A local file `name` (in a fresh directory) with `content`. */
function local(name: string, content: string): string {
  const dir = mkdtempSync(path.join(tmp, 'f-'));
  writeFileSync(path.join(dir, name), content);
  return path.join(dir, name);
}

const cat = async (ctr: string, p: string) => ok(await h.d.docker(['exec', ctr, 'cat', p]));

describe('docker cp onto bound files', () => {
  test("berthd's /etc files and a user's file bind are written through the bind", async () => {
    const appConf = path.join(tmp, 'app.conf');
    writeFileSync(appConf, 'old\n');
    const roConf = path.join(tmp, 'ro.conf');
    writeFileSync(roConf, 'keep\n');
    const ctr = 'cpbind';
    ok(
      await h.d.docker([
        'run',
        '-d',
        '--name',
        ctr,
        '--hostname',
        'before',
        '-v',
        `${appConf}:/etc/app.conf`,
        '-v',
        `${roConf}:/etc/ro.conf:ro`,
        'busybox',
        'sleep',
        '600',
      ]),
    );
    try {
      // Into the directory, named as the bound file.
      ok(await h.d.docker(['cp', local('hostname', 'after\n'), `${ctr}:/etc/`]));
      assert.equal(await cat(ctr, '/etc/hostname'), 'after\n');
      ok(await h.d.docker(['cp', local('resolv.conf', 'nameserver 10.9.9.9\n'), `${ctr}:/etc/`]));
      assert.equal(await cat(ctr, '/etc/resolv.conf'), 'nameserver 10.9.9.9\n');
      // Onto the file itself (the CLI sends it to /etc renamed).
      ok(await h.d.docker(['cp', local('mine', '127.0.0.1 localhost copied\n'), `${ctr}:/etc/hosts`]));
      assert.equal(await cat(ctr, '/etc/hosts'), '127.0.0.1 localhost copied\n');
      // A user's file bind: the host file is what changed.
      ok(await h.d.docker(['cp', local('app.conf', 'new\n'), `${ctr}:/etc/`]));
      assert.equal(await cat(ctr, '/etc/app.conf'), 'new\n');
      assert.equal(readFileSync(appConf, 'utf8'), 'new\n');
      // A tar into / reaches the same binds.
      const tree = mkdtempSync(path.join(tmp, 'tree-'));
      mkdirSync(path.join(tree, 'etc'));
      writeFileSync(path.join(tree, 'etc', 'hostname'), 'from-tar\n');
      writeFileSync(path.join(tree, 'etc', 'plain'), 'rootfs file\n');
      const tarFile = path.join(tmp, 'etc.tar');
      ok(await run('tar', ['-C', tree, '-cf', tarFile, 'etc']));
      ok(await h.d.docker(['cp', '-', `${ctr}:/`], { inputFile: tarFile }));
      assert.equal(await cat(ctr, '/etc/hostname'), 'from-tar\n');
      assert.equal(await cat(ctr, '/etc/plain'), 'rootfs file\n');
      // cp out reads the same bound files.
      assert.match(ok(await h.d.docker(['cp', `${ctr}:/etc/hostname`, '-'])), /from-tar/);

      const ro = await h.d.docker(['cp', local('ro.conf', 'changed\n'), `${ctr}:/etc/`]);
      assert.notEqual(ro.code, 0);
      assert.match(ro.stderr, /mounted file \/etc\/ro.conf is marked read-only/);
      assert.equal(readFileSync(roConf, 'utf8'), 'keep\n');

      const dir = mkdtempSync(path.join(tmp, 'd-'));
      mkdirSync(path.join(dir, 'hosts'));
      writeFileSync(path.join(dir, 'hosts', 'x'), 'x');
      const asDir = await h.d.docker(['cp', path.join(dir, 'hosts'), `${ctr}:/etc/`]);
      assert.notEqual(asDir.code, 0);
      assert.match(
        asDir.stderr,
        /\/etc\/hosts is a file bound into the container; only a regular file can replace it/,
      );
      assert.equal(await cat(ctr, '/etc/hosts'), '127.0.0.1 localhost copied\n');

      const left = ok(await h.d.docker(['exec', ctr, 'ls', '-a', '/etc']));
      assert.doesNotMatch(left, /\.berth-cp-/);
    } finally {
      await h.d.docker(['rm', '-f', ctr]);
    }
  });

  test('directory mounts: volumes and nested binds in and out, read-only refused, hostile tars refused, stopped', async () => {
    const bindDir = mkdtempSync(path.join(tmp, 'bind-'));
    const roDir = mkdtempSync(path.join(tmp, 'ro-'));
    const outside = mkdtempSync(path.join(tmp, 'outside-'));
    const ctr = 'cpmnt';
    const vol = 'cpmntvol';
    ok(
      await h.d.docker([
        'run',
        '-d',
        '--name',
        ctr,
        '-v',
        `${vol}:/data`,
        '-v',
        `${bindDir}:/data/sub`,
        '-v',
        `${roDir}:/ro:ro`,
        'busybox',
        'sleep',
        '600',
      ]),
    );
    /** A tar of `files` (name → content) written to a file, for `docker cp - ctr:dest`. */
    const tarOf = (files: Record<string, string>) => {
      const f = path.join(mkdtempSync(path.join(tmp, 't-')), 'in.tar');
      const entries = Object.entries(files).map(([name, c]) => ({
        name,
        content: Buffer.from(c),
        mode: 0o644,
      }));
      writeFileSync(f, tarOfFiles(entries));
      return f;
    };
    const cpIn = (tar: string, dest = '/') => h.d.docker(['cp', '-', `${ctr}:${dest}`], { inputFile: tar });
    try {
      // A tar into / with entries below the volume and the bind nested in it.
      ok(await cpIn(tarOf({ 'data/x': 'vol\n', 'data/sub/y': 'bind\n', 'etc/z': 'rootfs\n' })));
      assert.equal(await cat(ctr, '/data/x'), 'vol\n');
      assert.equal(await cat(ctr, '/data/sub/y'), 'bind\n');
      assert.equal(await cat(ctr, '/etc/z'), 'rootfs\n');
      assert.equal(readFileSync(path.join(bindDir, 'y'), 'utf8'), 'bind\n');
      // Into the mount point itself, and a directory tree into the volume's parent.
      ok(await h.d.docker(['cp', local('direct', 'd\n'), `${ctr}:/data/`]));
      assert.equal(await cat(ctr, '/data/direct'), 'd\n');
      const tree = mkdtempSync(path.join(tmp, 'tree-'));
      mkdirSync(path.join(tree, 'data', 'sub', 'deep'), { recursive: true });
      writeFileSync(path.join(tree, 'data', 'sub', 'deep', 'f'), 'deep\n');
      ok(await h.d.docker(['cp', path.join(tree, 'data'), `${ctr}:/`]));
      assert.equal(await cat(ctr, '/data/sub/deep/f'), 'deep\n');
      assert.equal(readFileSync(path.join(bindDir, 'deep', 'f'), 'utf8'), 'deep\n');

      // cp out of the volume shows the nested bind's content, and so does cp of /.
      const out = mkdtempSync(path.join(tmp, 'out-'));
      ok(await h.d.docker(['cp', `${ctr}:/data`, out]));
      assert.equal(readFileSync(path.join(out, 'data', 'x'), 'utf8'), 'vol\n');
      assert.equal(readFileSync(path.join(out, 'data', 'sub', 'y'), 'utf8'), 'bind\n');
      const contents = mkdtempSync(path.join(tmp, 'out-'));
      ok(await h.d.docker(['cp', `${ctr}:/data/.`, contents]));
      assert.equal(readFileSync(path.join(contents, 'sub', 'deep', 'f'), 'utf8'), 'deep\n');
      ok(await h.d.docker(['cp', `${ctr}:/data/sub/deep/f`, path.join(out, 'f')]));
      assert.equal(readFileSync(path.join(out, 'f'), 'utf8'), 'deep\n');
      const whole = ok(await h.d.docker(['cp', `${ctr}:/`, '-']));
      assert.match(whole, /data\/sub\/y\0[\s\S]*bind\n/);
      assert.match(ok(await h.d.docker(['cp', `${ctr}:/etc`, '-'])), /etc\/hostname\0/);

      // Read-only: refused, naming the mount, whether it is the destination or below it.
      for (const r of [
        await cpIn(tarOf({ 'ro/f': 'no\n' })),
        await h.d.docker(['cp', local('f', 'no\n'), `${ctr}:/ro/`]),
      ]) {
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /mounted volume \/ro is marked read-only/);
      }
      assert.deepEqual(readdirSync(roDir), []);

      // Hostile: a symlink in the volume to a host directory, a symlink entry then a file
      // through it, and `..` climbing out of the mount and the destination.
      ok(await h.d.docker(['exec', ctr, 'ln', '-s', outside, '/data/evil']));
      const evil = await cpIn(tarOf({ 'data/evil/pwn': 'x' }));
      assert.notEqual(evil.code, 0);
      assert.match(evil.stderr, /in \/data \(mounted into the container\): .*"evil"/);
      const linkTar = path.join(tmp, 'link.tar');
      ok(
        await run('python3', [
          '-c',
          `import tarfile,io,sys
t=tarfile.open(sys.argv[1],'w')
l=tarfile.TarInfo('data/sub/out'); l.type=tarfile.SYMTYPE; l.linkname=sys.argv[2]; t.addfile(l)
f=tarfile.TarInfo('data/sub/out/pwn'); f.size=1; t.addfile(f, io.BytesIO(b'x'))
t.close()`,
          linkTar,
          outside,
        ]),
      );
      const viaLink = await cpIn(linkTar);
      assert.notEqual(viaLink.code, 0);
      assert.match(
        viaLink.stderr,
        /"data\/sub\/out\/pwn": parent "data\/sub\/out" is a symlink; refusing to write through it/,
      );
      for (const name of ['data/../../escape', 'data/sub/../../../escape']) {
        const up = await cpIn(tarOf({ [name]: 'x' }));
        assert.notEqual(up.code, 0);
        assert.match(up.stderr, /escapes/);
      }
      const overMount = await cpIn(tarOf({ 'data/sub': 'a file where a bind is' }));
      assert.notEqual(overMount.code, 0);
      assert.match(overMount.stderr, /\/data\/sub is a directory mounted into the container/);
      const upInVol = await cpIn(tarOf({ '../escape': 'x' }), '/data/sub');
      assert.notEqual(upInVol.code, 0);
      assert.deepEqual(readdirSync(outside), []);
      assert.equal(existsSync(path.join(path.dirname(bindDir), 'escape')), false);
      const left = ok(await h.d.docker(['exec', ctr, 'ls', '-a', '/', '/data']));
      assert.doesNotMatch(left, /\.berth-cp-/);

      // Stopped: the mounts are reached all the same.
      ok(await h.d.docker(['stop', '-t', '0', ctr]));
      ok(await cpIn(tarOf({ 'data/stopped': 's\n', 'data/sub/stopped': 'sb\n' })));
      assert.equal(readFileSync(path.join(bindDir, 'stopped'), 'utf8'), 'sb\n');
      ok(await h.d.docker(['cp', `${ctr}:/data/stopped`, path.join(out, 'stopped')]));
      assert.equal(readFileSync(path.join(out, 'stopped'), 'utf8'), 's\n');
      assert.match(
        ok(await h.d.docker(['run', '--rm', '-v', `${vol}:/v`, 'busybox', 'cat', '/v/stopped', '/v/x'])),
        /^s\nvol\n$/,
      );
    } finally {
      await h.d.docker(['rm', '-f', ctr]);
      await h.d.docker(['volume', 'rm', '-f', vol]);
    }
  });
});
