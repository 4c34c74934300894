// Volumes and mounts through the real docker CLI and the berth CLI, checked by what processes
// inside containers see: named, anonymous, bind and tmpfs mounts, --volumes-from, copy-up of
// image content, data surviving removal / restart / kill -9, in-use and bad-name errors, prune.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let d: TestDaemon;
let hostDir: string;

before(async () => {
  d = await startTestDaemon();
  hostDir = mkdtempSync(path.join(os.tmpdir(), 'berth-vol-host-'));
  const r = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox:latest']);
  assert.equal(r.code, 0, r.stderr);
  // An image with content (owned by 1000, mode 0640) under a VOLUME path, for copy-up.
  const root = path.join(hostDir, 'seedroot');
  execFileSync('mkdir', ['-p', path.join(root, 'seed')]);
  execFileSync('tar', ['-xf', busyboxTar(), '-C', root]);
  writeFileSync(path.join(root, 'seed', 'hello'), 'from the image\n', { mode: 0o640 });
  execFileSync('chown', ['-R', '1000:1000', path.join(root, 'seed')]);
  execFileSync('chmod', ['0750', path.join(root, 'seed')]);
  execFileSync('tar', ['-cf', path.join(hostDir, 'seed.tar'), '-C', root, '.']);
  const s = await d.berth([
    'import',
    '-c',
    'VOLUME /seed',
    '-c',
    'CMD ["sh"]',
    path.join(hostDir, 'seed.tar'),
    'seedimg:latest',
  ]);
  assert.equal(s.code, 0, s.stderr);
});

after(async () => {
  if (d) {
    const ids = (await d.docker(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length > 0) await d.docker(['rm', '-f', ...ids]);
    await d.cleanup();
  }
  if (hostDir) rmSync(hostDir, { recursive: true, force: true });
});

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('named volumes', () => {
  test('data written through a named volume is read by a second container (docker, then berth)', async () => {
    assert.equal((await ok(d.docker(['volume', 'create', '--label', 'team=a', 'data1']))).trim(), 'data1');
    await ok(d.docker(['run', '--rm', '-v', 'data1:/data', 'busybox', 'sh', '-c', 'echo hello > /data/f']));
    assert.equal(
      await ok(d.berth(['run', '--rm', '-v', 'data1:/data', 'busybox', 'cat', '/data/f'])),
      'hello\n',
    );
    const info = JSON.parse(await ok(d.docker(['volume', 'inspect', 'data1'])))[0];
    assert.equal(info.Name, 'data1');
    assert.equal(info.Driver, 'local');
    assert.deepEqual(info.Labels, { team: 'a' });
    assert.equal(info.Mountpoint, path.join(d.dataRoot, 'volumes', 'data1', '_data'));
    assert.equal(readFileSync(path.join(info.Mountpoint, 'f'), 'utf8'), 'hello\n');
  });

  test(":ro refuses writes, rw still works, and inspect shows Docker's Mounts", async () => {
    const r = await d.docker([
      'run',
      '--rm',
      '-v',
      'data1:/data:ro',
      'busybox',
      'sh',
      '-c',
      'echo x > /data/g',
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Read-only file system/);
    const b = await d.berth([
      'run',
      '--rm',
      '--mount',
      'source=data1,target=/data,readonly',
      'busybox',
      'touch',
      '/data/g',
    ]);
    assert.notEqual(b.code, 0);
    assert.equal(existsSync(path.join(d.dataRoot, 'volumes/data1/_data/g')), false);
    const id = (
      await ok(d.docker(['create', '-v', 'data1:/data:ro', '-v', `${hostDir}:/host`, 'busybox']))
    ).trim();
    const mounts = JSON.parse(await ok(d.docker(['inspect', '-f', '{{json .Mounts}}', id])));
    const vol = mounts.find((m: { Destination: string }) => m.Destination === '/data');
    assert.deepEqual(vol, {
      Type: 'volume',
      Name: 'data1',
      Source: path.join(d.dataRoot, 'volumes/data1/_data'),
      Destination: '/data',
      Driver: 'local',
      Mode: 'ro',
      RW: false,
      Propagation: '',
    });
    const bind = mounts.find((m: { Destination: string }) => m.Destination === '/host');
    assert.deepEqual(bind, {
      Type: 'bind',
      Source: hostDir,
      Destination: '/host',
      Mode: '',
      RW: true,
      Propagation: 'rprivate',
    });
    await ok(d.docker(['rm', id]));
  });

  test('removing a volume in use is a 409 naming the container; another volume is untouched', async () => {
    await ok(d.docker(['volume', 'create', 'busy']));
    await ok(d.docker(['volume', 'create', 'bystander']));
    await ok(d.docker(['run', '--rm', '-v', 'bystander:/b', 'busybox', 'sh', '-c', 'echo keep > /b/k']));
    await ok(d.docker(['create', '--name', 'holder', '-v', 'busy:/x', 'busybox']));
    const r = await d.docker(['volume', 'rm', 'busy']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /volume is in use/);
    assert.match(r.stderr, /holder/);
    const raw = await d.request('DELETE', '/volumes/busy?force=1');
    assert.equal(raw.status, 409);
    await ok(d.docker(['rm', 'holder']));
    assert.equal((await ok(d.berth(['volume', 'rm', 'busy']))).trim(), 'busy');
    assert.equal(existsSync(path.join(d.dataRoot, 'volumes/busy')), false);
    assert.equal(
      await ok(d.docker(['run', '--rm', '-v', 'bystander:/b', 'busybox', 'cat', '/b/k'])),
      'keep\n',
    );
    // -f: a missing volume is not an error; without it, 404.
    assert.equal((await d.docker(['volume', 'rm', 'busy'])).code, 1);
    await ok(d.docker(['volume', 'rm', '-f', 'busy']));
  });

  test('bad volume names are a 400 and create nothing', async () => {
    for (const name of ['a/b', '..', '.hidden', '../escape']) {
      const r = await d.request('POST', '/volumes/create', JSON.stringify({ Name: name }), {
        'Content-Type': 'application/json',
      });
      assert.equal(r.status, 400, `${name}: ${r.body}`);
      assert.match(r.body.toString(), /invalid characters for a local volume name/);
    }
    const c = await d.docker(['volume', 'create', 'a/b']);
    assert.notEqual(c.code, 0);
    assert.match(c.stderr, /invalid characters/);
    const v = await d.docker(['run', '--rm', '-v', 'a/b:/x', 'busybox', 'true']);
    assert.notEqual(v.code, 0);
    assert.match(v.stderr, /invalid characters/);
    // The docker CLI turns `..:/x` into an absolute bind; the API itself must refuse the name.
    const dots = await d.request(
      'POST',
      '/containers/create',
      JSON.stringify({ Image: 'busybox', HostConfig: { Binds: ['..:/x'] } }),
      { 'Content-Type': 'application/json' },
    );
    assert.equal(dots.status, 400);
    const m = await d.docker(['run', '--rm', '--mount', 'source=a/b,target=/x', 'busybox', 'true']);
    assert.notEqual(m.code, 0);
    assert.match(m.stderr, /invalid characters/);
    assert.equal(existsSync(path.join(d.dataRoot, 'escape')), false);
    assert.equal(existsSync(path.join(d.dataRoot, 'volumes/a')), false);
    const bad = await d.docker(['volume', 'create', '--opt', 'foo=bar', 'withopt']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid option key: "foo"/);
  });
});

describe('binds, tmpfs and --volumes-from', () => {
  test('-v creates a missing host path; --mount refuses it with a 400', async () => {
    const src = path.join(hostDir, 'made', 'by', 'v');
    await ok(d.docker(['run', '--rm', '-v', `${src}:/h`, 'busybox', 'sh', '-c', 'echo bound > /h/file']));
    assert.equal(readFileSync(path.join(src, 'file'), 'utf8'), 'bound\n');
    const missing = path.join(hostDir, 'not-there');
    const r = await d.docker([
      'run',
      '--rm',
      '--mount',
      `type=bind,source=${missing},target=/h`,
      'busybox',
      'true',
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`bind source path does not exist: ${missing}`));
    assert.equal(existsSync(missing), false);
    const raw = await d.request(
      'POST',
      '/containers/create',
      JSON.stringify({
        Image: 'busybox',
        HostConfig: { Mounts: [{ Type: 'bind', Source: missing, Target: '/h' }] },
      }),
      { 'Content-Type': 'application/json' },
    );
    assert.equal(raw.status, 400);
    const b = await d.berth([
      'run',
      '--rm',
      '--mount',
      `type=bind,src=${src},dst=/h,ro`,
      'busybox',
      'cat',
      '/h/file',
    ]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, 'bound\n');
  });

  test('tmpfs content (--tmpfs, --mount type=tmpfs, a tmpfs volume) is gone after a restart', async () => {
    await ok(
      d.docker([
        'volume',
        'create',
        '--opt',
        'type=tmpfs',
        '--opt',
        'device=tmpfs',
        '--opt',
        'o=size=1m',
        'tv',
      ]),
    );
    await ok(
      d.docker([
        'run',
        '-d',
        '--name',
        'scratchy',
        '--tmpfs',
        '/scratch',
        '--mount',
        'type=tmpfs,target=/m,tmpfs-size=1m',
        '-v',
        'tv:/v',
        'busybox',
        'sleep',
        '1000',
      ]),
    );
    await ok(d.docker(['exec', 'scratchy', 'sh', '-c', 'for p in /scratch /m /v; do echo x > $p/f; done']));
    assert.equal(
      await ok(d.docker(['exec', 'scratchy', 'sh', '-c', 'cat /scratch/f /m/f /v/f'])),
      'x\nx\nx\n',
    );
    const fs = await ok(d.docker(['exec', 'scratchy', 'grep', '-E', ' /(m|v) ', '/proc/mounts']));
    assert.match(fs, /tmpfs \/m tmpfs/);
    assert.match(fs, / \/v tmpfs/);
    await ok(d.docker(['restart', '-t', '0', 'scratchy']));
    assert.equal(
      await ok(d.docker(['exec', 'scratchy', 'sh', '-c', 'ls -A /scratch /m /v | grep -c f || true'])),
      '0\n',
    );
    await ok(d.docker(['rm', '-f', 'scratchy']));
    // The tmpfs volume is unmounted once its last container stopped.
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.equal(mounts.includes(path.join(d.dataRoot, 'volumes/tv/_data')), false);
    await ok(d.docker(['volume', 'rm', 'tv']));
  });

  test('--volumes-from shares the volumes; :ro makes them read-only', async () => {
    await ok(d.docker(['create', '--name', 'store', '-v', '/shared', '-v', 'data1:/d', 'busybox']));
    await ok(
      d.docker(['run', '--rm', '--volumes-from', 'store', 'busybox', 'sh', '-c', 'echo s > /shared/x']),
    );
    assert.equal(
      await ok(d.berth(['run', '--rm', '--volumes-from', 'store:ro', 'busybox', 'cat', '/shared/x', '/d/f'])),
      's\nhello\n',
    );
    const ro = await d.docker(['run', '--rm', '--volumes-from', 'store:ro', 'busybox', 'touch', '/shared/y']);
    assert.notEqual(ro.code, 0);
    // (The docker CLI takes any 404 on create for a missing image and tries a pull.)
    const missing = await d.berth(['run', '--rm', '--volumes-from', 'nosuch', 'busybox', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No such container: nosuch/);
  });
});

describe('anonymous volumes and copy-up', () => {
  test("the image's VOLUME gets an anonymous volume with the image's content, owners and modes", async () => {
    const anonymous = async () =>
      (await ok(d.docker(['volume', 'ls', '-q', '--filter', 'label=com.docker.volume.anonymous'])))
        .trim()
        .split('\n')
        .filter(Boolean);
    const before = await anonymous();
    const out = await ok(
      d.docker(['run', '--rm', 'seedimg', 'sh', '-c', "stat -c '%u %a' /seed /seed/hello; cat /seed/hello"]),
    );
    assert.equal(out, '1000 750\n1000 640\nfrom the image\n');
    // --rm removed that anonymous volume with its container.
    assert.deepEqual(await anonymous(), before);
    const kept = await ok(d.docker(['run', '-d', 'seedimg', 'sleep', '1000']));
    assert.equal((await anonymous()).length, before.length + 1);
    await ok(d.docker(['rm', '-f', kept.trim()]));
  });

  test('a new named volume gets the image content; nocopy leaves it empty; a used one is not overwritten', async () => {
    assert.equal(
      await ok(
        d.docker(['run', '--rm', '-v', 'fresh:/seed', 'seedimg', 'sh', '-c', "stat -c '%u %a' /seed/hello"]),
      ),
      '1000 640\n',
    );
    assert.equal(
      await ok(d.berth(['run', '--rm', '-v', 'fresh2:/seed:nocopy', 'seedimg', 'ls', '-A', '/seed'])),
      '',
    );
    await ok(d.docker(['run', '--rm', '-v', 'data1:/seed', 'seedimg', 'true']));
    assert.equal(existsSync(path.join(d.dataRoot, 'volumes/data1/_data/hello')), false);
    await ok(d.docker(['volume', 'rm', 'fresh', 'fresh2']));
  });

  test('rm -v removes the anonymous volumes; prune takes anonymous ones unless --all', async () => {
    const id = (await ok(d.docker(['create', '-v', '/anon', 'busybox']))).trim();
    const name = (await ok(d.docker(['inspect', '-f', '{{(index .Mounts 0).Name}}', id]))).trim();
    assert.match(name, /^[0-9a-f]{64}$/);
    await ok(d.docker(['rm', '-v', id]));
    assert.equal((await d.docker(['volume', 'inspect', name])).code, 1);

    const id2 = (await ok(d.berth(['create', '-v', '/anon', 'busybox']))).trim();
    const name2 = JSON.parse(await ok(d.docker(['inspect', id2])))[0].Mounts[0].Name as string;
    await ok(d.berth(['rm', id2])); // without -v the anonymous volume stays, dangling
    await ok(d.docker(['volume', 'create', 'keepme']));
    // A volume created without a name is not anonymous (only container-made ones are).
    const unnamed = (await ok(d.docker(['volume', 'create']))).trim();
    assert.match(unnamed, /^[0-9a-f]{64}$/);
    const dangling = (await ok(d.docker(['volume', 'ls', '-q', '--filter', 'dangling=true']))).split('\n');
    assert.ok(dangling.includes(name2) && dangling.includes('keepme'));
    assert.ok(!(await ok(d.docker(['volume', 'ls', '-q', '--filter', 'dangling=false']))).includes('keepme'));
    assert.equal(
      (
        await ok(d.berth(['volume', 'ls', '--filter', 'name=keep', '--format', '{{.Name}} {{.Driver}}']))
      ).trim(),
      'keepme local',
    );
    const p = await ok(d.docker(['volume', 'prune', '-f']));
    assert.match(p, new RegExp(name2));
    assert.doesNotMatch(p, /keepme/);
    assert.equal((await d.docker(['volume', 'inspect', 'keepme'])).code, 0);
    assert.equal((await d.docker(['volume', 'inspect', unnamed])).code, 0);
    const all = await ok(d.berth(['volume', 'prune', '-a', '-f']));
    assert.match(all, /keepme/);
    assert.doesNotMatch(all, /data1/); // still used by the "store" container
    assert.equal((await d.docker(['volume', 'inspect', 'keepme'])).code, 1);
  });
});

describe('data safety', () => {
  test('a volume survives container removal, a daemon restart and kill -9 of berthd', async () => {
    await ok(
      d.docker(['run', '--name', 'writer', '-v', 'durable:/d', 'busybox', 'sh', '-c', 'echo safe > /d/f']),
    );
    await ok(d.docker(['rm', 'writer']));
    d = await d.restart();
    assert.equal(await ok(d.docker(['run', '--rm', '-v', 'durable:/d', 'busybox', 'cat', '/d/f'])), 'safe\n');
    // Users are counted again after a restart: "store" still holds data1.
    const inUse = await d.docker(['volume', 'rm', 'data1']);
    assert.match(inUse.stderr, /volume is in use/);
    await d.kill9();
    d = await d.restart();
    assert.equal(await ok(d.berth(['run', '--rm', '-v', 'durable:/d', 'busybox', 'cat', '/d/f'])), 'safe\n');
    assert.ok((await ok(d.berth(['volume', 'ls', '-q']))).split('\n').includes('durable'));
  });
});
