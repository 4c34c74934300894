// `docker cp` onto a file bound into the container — berthd's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, and a user's `-v /host/file:/etc/x` — writes through the bind, where the
// container's processes read it, not into the rootfs file the bind hides; whatever the form
// (`f ctr:/etc/`, `f ctr:/etc/hosts`, a tar into `/`). A read-only bind and a directory in the
// place of a bound file are refused; nothing staged is left in the container.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
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
});
