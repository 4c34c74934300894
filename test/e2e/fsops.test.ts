// Container filesystem operations through the real docker CLI and the berth CLI: cp both ways
// (running and stopped containers, ownership, symlinks, escapes), diff, export, commit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let d: TestDaemon;
let tmp: string;
before(async () => {
  d = await startTestDaemon();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-fsops-'));
  const r = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox:latest']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  if (d) {
    const ids = (await d.docker(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length > 0) await d.docker(['rm', '-f', ...ids]);
    await d.cleanup();
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  // On failure the daemon's last log lines say what it was doing.
  if (r.code !== 0)
    assert.fail(`exit ${r.code}: ${r.stderr}\n--- berthd log tail:\n${d.logs().slice(-4000)}`);
  return r.stdout;
}

/** A running container that sleeps; returns its name. */
async function sleeper(): Promise<string> {
  const name = `fs-${randomBytes(4).toString('hex')}`;
  await ok(d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '600']));
  return name;
}

function mountsOf(id: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(id));
}

/** src/{a.txt (1234:5678), sub/b.txt, link -> a.txt} */
function sourceTree(): string {
  const src = path.join(tmp, `src-${randomBytes(3).toString('hex')}`, 'tree');
  mkdirSync(path.join(src, 'sub'), { recursive: true });
  writeFileSync(path.join(src, 'a.txt'), 'alpha\n');
  writeFileSync(path.join(src, 'sub', 'b.txt'), 'beta\n');
  symlinkSync('a.txt', path.join(src, 'link'));
  chownSync(path.join(src, 'a.txt'), 1234, 5678);
  return src;
}

describe('docker cp', () => {
  test('round trips a directory with a symlink; -a keeps uid:gid, without it root owns', async () => {
    const c = await sleeper();
    const src = sourceTree();
    await ok(d.docker(['cp', '-a', src, `${c}:/tmp/`]));
    await ok(d.docker(['cp', src, `${c}:/tmp/noa`]));
    const inside = await ok(
      d.docker([
        'exec',
        c,
        'sh',
        '-c',
        'cat /tmp/tree/a.txt /tmp/tree/sub/b.txt; readlink /tmp/tree/link; stat -c %u:%g /tmp/tree/a.txt /tmp/noa/a.txt',
      ]),
    );
    assert.equal(inside, 'alpha\nbeta\na.txt\n1234:5678\n0:0\n');

    const out = path.join(tmp, `out-${c}`);
    mkdirSync(out);
    await ok(d.docker(['cp', `${c}:/tmp/tree`, out]));
    assert.equal(readFileSync(path.join(out, 'tree', 'sub', 'b.txt'), 'utf8'), 'beta\n');
    assert.equal(readlinkSync(path.join(out, 'tree', 'link')), 'a.txt');
    // trailing /. copies the contents; a missing destination is created
    await ok(d.docker(['cp', `${c}:/tmp/tree/.`, path.join(out, 'contents')]));
    assert.equal(readFileSync(path.join(out, 'contents', 'a.txt'), 'utf8'), 'alpha\n');
    // the whole root filesystem
    await ok(d.docker(['cp', `${c}:/`, path.join(out, 'root')]));
    assert.equal(readFileSync(path.join(out, 'root', 'tmp', 'tree', 'a.txt'), 'utf8'), 'alpha\n');
    // a single file to a new name
    await ok(d.docker(['cp', `${c}:/etc/passwd`, path.join(out, 'pw')]));
    assert.match(readFileSync(path.join(out, 'pw'), 'utf8'), /^root:/);
  });

  test('copies into a stopped container, which then sees the file; no mount is left', async () => {
    const name = `fs-stopped-${randomBytes(3).toString('hex')}`;
    const id = (await ok(d.docker(['create', '--name', name, 'busybox', 'cat', '/hello.txt']))).trim();
    const f = path.join(tmp, 'hello.txt');
    writeFileSync(f, 'hello from the host\n');
    await ok(d.docker(['cp', f, `${name}:/`]));
    assert.deepEqual(mountsOf(id), [], 'the temporary rootfs mount is gone');
    assert.equal(await ok(d.docker(['start', '-a', name])), 'hello from the host\n');
    // and out of the exited container
    const back = path.join(tmp, 'back.txt');
    await ok(d.docker(['cp', `${name}:/hello.txt`, back]));
    assert.equal(readFileSync(back, 'utf8'), 'hello from the host\n');
  });

  test('cp concurrent with start: both succeed, and the mount goes when both are done', async () => {
    const name = `fs-race-${randomBytes(3).toString('hex')}`;
    const id = (await ok(d.docker(['create', '--name', name, 'busybox', 'sleep', '0.5']))).trim();
    const big = path.join(tmp, `big-${name}`);
    writeFileSync(big, randomBytes(16 << 20));
    const [cp, start] = await Promise.all([d.docker(['cp', big, `${name}:/big`]), d.docker(['start', name])]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(start.code, 0, start.stderr);
    await ok(d.docker(['wait', name]));
    assert.equal((await ok(d.docker(['inspect', '-f', '{{.State.ExitCode}}', name]))).trim(), '0');
    const size = await d.request('HEAD', `/containers/${id}/archive?path=/big`);
    assert.equal(size.status, 200);
    const stat = JSON.parse(
      Buffer.from(String(size.headers['x-docker-container-path-stat']), 'base64').toString(),
    );
    assert.equal(stat.size, 16 << 20);
    assert.deepEqual(mountsOf(id), []);
  });

  test('paths cannot escape the rootfs: .. and symlinks resolve inside it', async () => {
    const c = await sleeper();
    const marker = `escape-${randomBytes(4).toString('hex')}`;
    const f = path.join(tmp, marker);
    writeFileSync(f, 'x');
    await ok(d.docker(['cp', f, `${c}:/../../../../tmp/`]));
    assert.equal(existsSync(`/tmp/${marker}`), false);
    assert.equal(await readInCtr(c, `/tmp/${marker}`), 'x');
    // an absolute symlink in the container means the container's /etc, never the host's
    // symlinks planted in the container (through a tar, as an image layer could hold them)
    const links = path.join(tmp, `links-${marker}`);
    mkdirSync(links);
    symlinkSync('/etc', path.join(links, 'hostetc'));
    symlinkSync('../../../../../../tmp', path.join(links, 'up'));
    const planted = await d.request(
      'PUT',
      `/containers/${c}/archive?path=/`,
      readFileSync(await writeTar(links)),
    );
    assert.equal(planted.status, 200, planted.body.toString());
    await ok(d.docker(['cp', f, `${c}:/hostetc/`]));
    await ok(d.docker(['cp', f, `${c}:/up/`]));
    assert.equal(existsSync(`/etc/${marker}`), false);
    assert.equal(existsSync(`/tmp/${marker}`), false);
    assert.equal(await readInCtr(c, `/etc/${marker}`), 'x');
    assert.equal(await readInCtr(c, `/tmp/${marker}`), 'x');
    // a tar whose entry passes through the symlink is refused as a whole
    const evil = path.join(tmp, `evil-${marker}`);
    mkdirSync(path.join(evil, 'hostetc'), { recursive: true });
    writeFileSync(path.join(evil, 'hostetc', `${marker}-2`), 'pwned');
    const evilTar = path.join(tmp, `evil-${marker}.tar`);
    await ok(run('tar', ['-C', evil, '-cf', evilTar, `hostetc/${marker}-2`]));
    const tarBytes = readFileSync(evilTar);
    const r = await d.request('PUT', `/containers/${c}/archive?path=/`, tarBytes, {
      'Content-Type': 'application/x-tar',
    });
    assert.equal(r.status, 400, r.body.toString());
    assert.match(r.body.toString(), /symlink/);
    assert.equal(existsSync(`/etc/${marker}-2`), false);
    assert.equal(await readInCtr(c, '/hostetc'), 'link:/etc');
    // with the directory entry first, the symlink is replaced (as tar does), never followed
    const withDir = readFileSync(await writeTar(evil));
    const replaced = await d.request('PUT', `/containers/${c}/archive?path=/`, withDir);
    assert.equal(replaced.status, 200, replaced.body.toString());
    assert.equal(existsSync(`/etc/${marker}-2`), false);
    assert.equal(await readInCtr(c, `/hostetc/${marker}-2`), 'pwned');
    // reading the host through a symlink is impossible too
    const shadow = await d.request('GET', `/containers/${c}/archive?path=/up/../../etc/passwd`);
    assert.equal(shadow.status, 200);
    const stat = JSON.parse(
      Buffer.from(String(shadow.headers['x-docker-container-path-stat']), 'base64').toString(),
    );
    assert.equal(stat.name, 'passwd');
    assert.equal(
      stat.size,
      lstatSync(`${d.dataRoot}/containers/${await inspectId(c)}/rootfs/merged/etc/passwd`).size,
    );
  });

  test('bad destinations: a file is 400, a missing path 404, as Docker', async () => {
    const c = await sleeper();
    const tarBytes = readFileSync(await writeTar(sourceTree()));
    const file = await d.request('PUT', `/containers/${c}/archive?path=/etc/passwd`, tarBytes);
    assert.equal(file.status, 400, file.body.toString());
    assert.match(file.body.toString(), /not a directory/);
    const missing = await d.request('PUT', `/containers/${c}/archive?path=/nope/x`, tarBytes);
    assert.equal(missing.status, 404, missing.body.toString());
    const head = await d.request('HEAD', `/containers/${c}/archive?path=/nope`);
    assert.equal(head.status, 404);
    const ro = `fs-ro-${randomBytes(3).toString('hex')}`;
    await ok(d.docker(['create', '--read-only', '--name', ro, 'busybox', 'true']));
    const denied = await d.request('PUT', `/containers/${ro}/archive?path=/tmp`, tarBytes);
    assert.equal(denied.status, 403, denied.body.toString());
    assert.match(denied.body.toString(), /read-only/);
    assert.equal(await readInCtr(ro, '/tmp/a.txt'), undefined, 'nothing was written');
    const cli = await d.docker(['cp', `${c}:/nope`, tmp]);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /Could not find the file \/nope/);
  });
});

/**
 * A file of the container read through the archive API (no exec: the test stays about cp).
 * Undefined when it does not exist; `link` for a symlink, with its target.
 */
async function readInCtr(c: string, p: string): Promise<string | undefined> {
  const r = await d.request('GET', `/containers/${c}/archive?path=${encodeURIComponent(p)}`);
  if (r.status === 404) return undefined;
  assert.equal(r.status, 200, r.body.toString());
  const type = String.fromCharCode(r.body[156]!);
  if (type === '2') return `link:${r.body.subarray(157, 257).toString().replace(/\0.*$/s, '')}`;
  const size = Number.parseInt(r.body.subarray(124, 136).toString().replace(/\0.*$/s, '').trim(), 8);
  return r.body.subarray(512, 512 + size).toString();
}

/** uid:gid of a container path, from its archive header. */
async function ownerInCtr(c: string, p: string): Promise<string> {
  const r = await d.request('GET', `/containers/${c}/archive?path=${encodeURIComponent(p)}`);
  assert.equal(r.status, 200, r.body.toString());
  const num = (off: number) =>
    Number.parseInt(
      r.body
        .subarray(off, off + 8)
        .toString()
        .replace(/\0.*$/s, '')
        .trim(),
      8,
    );
  return `${num(108)}:${num(116)}`;
}

/** Puts files into a container through a tar of a local directory (no exec). */
async function plant(c: string, files: Record<string, string | { link: string }>): Promise<void> {
  const dir = path.join(tmp, `plant-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir);
  for (const [name, v] of Object.entries(files)) {
    if (typeof v === 'string') writeFileSync(path.join(dir, name), v);
    else symlinkSync(v.link, path.join(dir, name));
  }
  const r = await d.request('PUT', `/containers/${c}/archive?path=/`, readFileSync(await writeTar(dir)));
  assert.equal(r.status, 200, r.body.toString());
}

async function inspectId(name: string): Promise<string> {
  return (await ok(d.docker(['inspect', '-f', '{{.Id}}', name]))).trim();
}

async function writeTar(dir: string): Promise<string> {
  const out = path.join(tmp, `t-${randomBytes(4).toString('hex')}.tar`);
  await ok(run('tar', ['-C', dir, '-cf', out, '.']));
  return out;
}

describe('docker cp through the container mounts', () => {
  test('reads /etc/hostname, /etc/hosts, a volume and a bind, running and stopped; writes a volume', async () => {
    const name = `fsm-${randomBytes(4).toString('hex')}`;
    const vol = `${name}-v`;
    const bindDir = path.join(tmp, `${name}-bind`);
    mkdirSync(bindDir);
    writeFileSync(path.join(bindDir, 'b'), 'from the host\n');
    // A host file the container must never reach through links planted in its volume.
    const canary = path.join(tmp, `${name}-canary`);
    writeFileSync(canary, 'host secret\n');
    const script =
      'echo in-volume > /vol/a && ln -s / /vol/root && ln -s ../../../../../../.. /vol/up && sleep 600';
    await ok(
      d.docker([
        'run',
        '-d',
        '--name',
        name,
        '--hostname',
        'cpbox',
        '-v',
        `${vol}:/vol`,
        '-v',
        `${bindDir}:/data`,
        'busybox',
        'sh',
        '-c',
        script,
      ]),
    );
    try {
      const deadline = Date.now() + 10_000;
      while ((await d.docker(['exec', name, 'test', '-L', '/vol/up'])).code !== 0) {
        assert.ok(Date.now() < deadline, 'the container never wrote its volume');
        await new Promise((r) => setTimeout(r, 100));
      }
      const out = async (src: string, label: string) => {
        const dest = path.join(tmp, `${name}-${label}`);
        rmSync(dest, { force: true });
        await ok(d.docker(['cp', `${name}:${src}`, dest]));
        return readFileSync(dest, 'utf8');
      };
      const readAll = async (label: string) => {
        assert.equal(await out('/etc/hostname', `${label}-hostname`), 'cpbox\n');
        assert.match(await out('/etc/hosts', `${label}-hosts`), /\tcpbox$/m);
        assert.match(await out('/etc/resolv.conf', `${label}-resolv`), /nameserver|search|options/);
        assert.equal(await out('/vol/a', `${label}-a`), 'in-volume\n');
        assert.equal(await out('/data/b', `${label}-b`), 'from the host\n');
      };
      await readAll('running');
      // Into the volume, seen by the container's processes.
      const local = path.join(tmp, `${name}-in`);
      writeFileSync(local, 'copied in\n');
      await ok(d.docker(['cp', local, `${name}:/vol/`]));
      assert.equal(await ok(d.docker(['exec', name, 'cat', `/vol/${path.basename(local)}`])), 'copied in\n');
      // Links inside the volume resolve inside the container's view, never to the host.
      for (const via of ['/vol/root', '/vol/up']) {
        const r = await d.docker(['cp', `${name}:${via}${canary}`, path.join(tmp, `${name}-leak`)]);
        assert.notEqual(r.code, 0, `${via}${canary} reached the host file`);
        assert.match(r.stderr, /Could not find the file/);
        const sh = await d.docker(['cp', `${name}:${via}/etc/shadow`, '-']);
        if (sh.code === 0 && existsSync('/etc/shadow'))
          assert.ok(
            !sh.stdout.includes(readFileSync('/etc/shadow', 'utf8').split('\n')[0] ?? ''),
            'host /etc/shadow leaked',
          );
      }
      // Export is the rootfs alone, mounts left out, as Docker's.
      const tarFile = path.join(tmp, `${name}-export.tar`);
      await ok(d.docker(['export', '-o', tarFile, name]));
      const entries = (await ok(run('tar', ['-tf', tarFile]))).split('\n');
      assert.ok(
        entries.some((e) => e === 'etc/passwd' || e === './etc/passwd'),
        'export lacks the rootfs',
      );
      assert.ok(
        !entries.some((e) => /(^|\/)vol\/a$|(^|\/)data\/b$/.test(e)),
        'export included mounted files',
      );
      await ok(d.docker(['stop', '-t', '0', name]));
      await readAll('stopped');
      assert.equal(await out(`/vol/${path.basename(local)}`, 'stopped-in'), 'copied in\n');
    } finally {
      await d.docker(['rm', '-f', name]);
      await d.docker(['volume', 'rm', '-f', vol]);
    }
  });
});

describe('diff, export, commit', () => {
  let name: string;
  before(async () => {
    name = `fs-changed-${randomBytes(3).toString('hex')}`;
    await ok(
      d.docker([
        'run',
        '--name',
        name,
        'busybox',
        'sh',
        '-c',
        'echo new > /newfile; echo extra >> /etc/group; rm /bin/ls; mkdir -p /root/d && echo in > /root/d/f',
      ]),
    );
  });

  test('docker diff lists A/C/D in Docker order, without Berth mount points', async () => {
    const lines = (await ok(d.docker(['diff', name]))).trim().split('\n');
    assert.deepEqual(lines, [
      'C /bin',
      'D /bin/ls',
      'C /etc/group',
      'A /newfile',
      'C /root',
      'A /root/d',
      'A /root/d/f',
    ]);
  });

  test('docker export is a flat tar of the merged rootfs', async () => {
    const out = path.join(tmp, 'export.tar');
    await ok(d.docker(['export', '-o', out, name]));
    const names = (await ok(run('tar', ['-tf', out]))).split('\n');
    assert.ok(names.includes('newfile'), names.slice(0, 5).join(','));
    assert.ok(names.includes('bin/busybox'));
    assert.ok(!names.includes('bin/ls'));
    assert.ok(!names.some((n) => n.includes('.wh.')));
  });

  test('docker commit makes an image that runs and shows the files; --change CMD works', async () => {
    await ok(d.docker(['commit', '-m', 'my message', '-a', 'me <me@x>', name, 'committed:v1']));
    assert.equal(
      await ok(d.docker(['run', '--rm', 'committed:v1', 'cat', '/newfile', '/root/d/f'])),
      'new\nin\n',
    );
    const gone = await d.docker(['run', '--rm', 'committed:v1', 'test', '-e', '/bin/ls']);
    assert.equal(gone.code, 1, 'the deleted file stays deleted in the new layer');
    const meta = JSON.parse(await ok(d.docker(['inspect', 'committed:v1'])))[0];
    assert.equal(meta.Comment, 'my message');
    assert.equal(meta.Author, 'me <me@x>');
    assert.equal(meta.RootFS.Layers.length, 2);

    await ok(
      d.docker(['commit', '--change', 'CMD ["cat", "/newfile"]', '-c', 'ENV FOO=bar', name, 'committed:v2']),
    );
    assert.equal(await ok(d.docker(['run', '--rm', 'committed:v2'])), 'new\n');
    assert.equal(await ok(d.docker(['run', '--rm', 'committed:v2', 'sh', '-c', 'echo $FOO'])), 'bar\n');
    const bad = await d.docker(['commit', '-c', 'RUN echo', name, 'committed:bad']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /RUN is not a valid change command/);
  });

  test('a container that never ran has no changes; its commit adds no layer', async () => {
    const name = `fs-fresh-${randomBytes(3).toString('hex')}`;
    await ok(d.docker(['create', '--name', name, 'busybox', 'true']));
    assert.equal(await ok(d.docker(['diff', name])), '');
    await ok(d.docker(['commit', name, 'committed:fresh']));
    const meta = JSON.parse(await ok(d.docker(['inspect', 'committed:fresh'])))[0];
    assert.equal(meta.RootFS.Layers.length, 1);
  });

  test('commit pauses a running container by default and resumes it', async () => {
    const c = await sleeper();
    await plant(c, { live: 'live\n' });
    const id = (await ok(d.docker(['commit', c, 'committed:live']))).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal((await ok(d.docker(['inspect', '-f', '{{.State.Status}}', c]))).trim(), 'running');
    assert.equal(await ok(d.docker(['run', '--rm', 'committed:live', 'cat', '/live'])), 'live\n');
  });
});

describe('berth cp, diff, export, commit', () => {
  test('cp round trip with -a, symlinks kept, trailing /. and files', async () => {
    const c = await sleeper();
    const src = sourceTree();
    await ok(d.berth(['cp', '-a', src, `${c}:/tmp`]));
    await ok(d.berth(['cp', src, `${c}:/tmp/noa`]));
    assert.equal(await readInCtr(c, '/tmp/tree/link'), 'link:a.txt');
    assert.equal(await ownerInCtr(c, '/tmp/tree/a.txt'), '1234:5678');
    assert.equal(await ownerInCtr(c, '/tmp/noa/a.txt'), '0:0');
    const out = path.join(tmp, `bout-${c}`);
    mkdirSync(out);
    await ok(d.berth(['cp', '-a', `${c}:/tmp/tree`, out]));
    const a = lstatSync(path.join(out, 'tree', 'a.txt'));
    assert.equal(`${a.uid}:${a.gid}`, '1234:5678');
    assert.equal(readlinkSync(path.join(out, 'tree', 'link')), 'a.txt');
    assert.equal(readFileSync(path.join(out, 'tree', 'sub', 'b.txt'), 'utf8'), 'beta\n');
    // without -a the copy belongs to the user running berth
    await ok(d.berth(['cp', `${c}:/tmp/tree/.`, path.join(out, 'plain')]));
    assert.equal(lstatSync(path.join(out, 'plain', 'a.txt')).uid, process.getuid!());
    assert.equal(readFileSync(path.join(out, 'plain', 'a.txt'), 'utf8'), 'alpha\n');
    // a file to a new name, and into an existing directory
    await ok(d.berth(['cp', `${c}:/etc/passwd`, path.join(out, 'pw')]));
    assert.match(readFileSync(path.join(out, 'pw'), 'utf8'), /^root:/);
    await ok(d.berth(['cp', path.join(out, 'pw'), `${c}:/etc/pw2`]));
    assert.match((await readInCtr(c, '/etc/pw2')) ?? '', /^root:/);
    // a directory cannot replace a file
    const clash = await d.berth(['cp', src, `${c}:/etc/passwd`]);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /cannot copy a directory to a file/);
  });

  test('cp -L follows a symlink source; without -L the link itself is copied', async () => {
    const c = await sleeper();
    await plant(c, { 't.txt': 'target\n', 'l.txt': { link: '/t.txt' } });
    const out = path.join(tmp, `L-${c}`);
    mkdirSync(out);
    await ok(d.berth(['cp', `${c}:/l.txt`, path.join(out, 'nofollow')]));
    assert.equal(readlinkSync(path.join(out, 'nofollow')), '/t.txt');
    await ok(d.docker(['cp', '-L', `${c}:/l.txt`, path.join(out, 'docker-L')]));
    assert.equal(readFileSync(path.join(out, 'docker-L'), 'utf8'), 'target\n');
    await ok(d.berth(['cp', '-L', `${c}:/l.txt`, out]));
    assert.equal(readFileSync(path.join(out, 'l.txt'), 'utf8'), 'target\n');
    assert.equal(lstatSync(path.join(out, 'l.txt')).isSymbolicLink(), false);
  });

  test('cp - streams a tar on stdout and reads one from stdin', async () => {
    const c = await sleeper();
    const tarOut = await d.berth(['cp', `${c}:/etc/group`, '-']);
    assert.equal(tarOut.code, 0, tarOut.stderr);
    const f = path.join(tmp, `group-${c}.tar`);
    writeFileSync(f, tarOut.stdout, 'latin1');
    assert.equal((await ok(run('tar', ['-tf', f]))).trim(), 'group');
    await ok(d.berth(['cp', '-', `${c}:/tmp`], { inputFile: await writeTar(sourceTree()) }));
    assert.equal(await readInCtr(c, '/tmp/a.txt'), 'alpha\n');
    const notDir = await d.berth(['cp', '-', `${c}:/etc/passwd`], { input: '' });
    assert.notEqual(notDir.code, 0);
    assert.match(notDir.stderr, /must be a directory/);
  });

  test('berth diff, export -o, commit -c -m -a', async () => {
    const name = `fs-b-${randomBytes(3).toString('hex')}`;
    await ok(d.berth(['run', '--name', name, 'busybox', 'sh', '-c', 'echo b > /bfile; rm /etc/passwd']));
    const diff = (await ok(d.berth(['diff', name]))).trim().split('\n');
    assert.deepEqual(diff, ['A /bfile', 'C /etc', 'D /etc/passwd']);
    const out = path.join(tmp, `bexport-${name}.tar`);
    await ok(d.berth(['export', '-o', out, name]));
    const names = (await ok(run('tar', ['-tf', out]))).split('\n');
    assert.ok(names.includes('bfile'));
    assert.ok(!names.includes('etc/passwd'));
    const id = (
      await ok(
        d.berth(['commit', '-c', 'CMD ["cat", "/bfile"]', '-m', 'berth msg', '-a', 'bob', name, 'bcommit']),
      )
    ).trim();
    assert.match(id, /^sha256:/);
    assert.equal(await ok(d.berth(['run', '--rm', 'bcommit'])), 'b\n');
    const meta = JSON.parse(await ok(d.docker(['image', 'inspect', 'bcommit'])))[0];
    assert.equal(meta.Comment, 'berth msg');
    assert.equal(meta.Author, 'bob');
    const missing = await d.berth(['diff', 'no-such-container']);
    assert.notEqual(missing.code, 0);
  });
});
