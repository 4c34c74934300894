// Pushing and logging in against real registries (Debian's docker-registry on loopback, one
// open and one behind htpasswd Basic auth): uploads, "already exists", cross-repository mounts,
// round trips with identical IDs, skopeo reading what Berth pushed, login/logout with the docker
// CLI and the berth CLI, and credentials kept private.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

let d: TestDaemon;
let open: TestRegistry;
let locked: TestRegistry;
let image: string;

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  d = await startTestDaemon();
  // bcrypt via the system's crypt(3) (libxcrypt), as htpasswd -B would write it.
  const htpasswd = path.join(d.dir, 'htpasswd');
  const line = execFileSync('python3', [
    '-W',
    'ignore',
    '-c',
    "import crypt; print('alice:' + crypt.crypt('s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH)))",
  ]).toString();
  await fsp.writeFile(htpasswd, line);
  [open, locked] = await Promise.all([startRegistry(), startRegistry({ htpasswd })]);
  // A layer no registry has seen: busybox plus a file unique to this run.
  const dir = path.join(d.dir, 'extra');
  await fsp.mkdir(dir);
  await fsp.writeFile(path.join(dir, 'unique.txt'), `made at ${Date.now()} by ${process.pid}\n`);
  const tarFile = path.join(d.dir, 'layer.tar');
  await fsp.copyFile(busyboxTar(), tarFile);
  ok(await run('tar', ['rf', tarFile, '-C', dir, 'unique.txt']));
  ok(await d.berth(['import', '-c', 'CMD ["sh"]', tarFile, 'local/app:1']));
  image = ok(await d.docker(['inspect', '-f', '{{.Id}}', 'local/app:1'])).trim();
});
after(async () => {
  await d?.cleanup();
  await Promise.all([open?.stop(), locked?.stop()]);
});

describe('push', () => {
  test('docker push uploads, the registry and skopeo agree, and a pull round-trips the image', async () => {
    const ref = `${open.host}/team/app:1`;
    ok(await d.docker(['tag', 'local/app:1', ref]));
    const out = ok(await d.docker(['push', ref]));
    assert.match(out, new RegExp(`The push refers to repository \\[${open.host}/team/app\\]`));
    assert.match(out, /: Pushed/);
    const m = /1: digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(out);
    assert.ok(m, out);
    const inspect = JSON.parse(
      ok(await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])),
    ) as {
      Digest: string;
      Layers: string[];
    };
    assert.equal(inspect.Digest, m[1]);
    const config = JSON.parse(
      ok(await run('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${ref}`])),
    ) as { rootfs: { diff_ids: string[] } };
    assert.equal(config.rootfs.diff_ids.length, 1);
    assert.ok(
      ok(await d.docker(['inspect', '-f', '{{json .RepoDigests}}', ref])).includes(
        `${open.host}/team/app@${m[1]}`,
      ),
    );
    // Pushing again uploads nothing.
    assert.match(ok(await d.docker(['push', ref])), /Layer already exists/);
    // Back from the registry: same image ID, the file is there.
    ok(await d.docker(['rmi', ref, 'local/app:1']));
    ok(await d.docker(['pull', ref]));
    assert.equal(ok(await d.docker(['inspect', '-f', '{{.Id}}', ref])).trim(), image);
    assert.match(ok(await d.docker(['run', '--rm', ref, 'cat', '/unique.txt'])), /made at/);
  });

  test('a second repository on the same registry mounts the blob instead of uploading it', async () => {
    const ref = `${open.host}/other/app:2`;
    ok(await d.docker(['tag', `${open.host}/team/app:1`, ref]));
    const out = ok(await d.berth(['push', ref]));
    assert.match(out, /Mounted from team\/app/);
  });

  test('--all-tags pushes and pulls every tag; images REPO lists only that repository', async () => {
    const repo = `${open.host}/multi/x`;
    for (const t of ['a', 'b']) ok(await d.docker(['tag', `${open.host}/team/app:1`, `${repo}:${t}`]));
    const out = ok(await d.docker(['push', '--all-tags', repo]));
    assert.match(out, /a: digest: sha256:/);
    assert.match(out, /b: digest: sha256:/);
    ok(await d.docker(['rmi', `${repo}:a`, `${repo}:b`]));
    ok(await d.berth(['pull', '--all-tags', repo]));
    assert.equal(ok(await d.docker(['images', repo, '--format', '{{.Tag}}'])), 'a\nb\n');
  });

  test('pushing an image that does not exist locally is a clear error', async () => {
    const r = await d.docker(['push', `${open.host}/nothing/here:1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /An image does not exist locally with the tag/);
  });
});

describe('login', () => {
  test('wrong password fails; login stores private credentials; push and pull work; logout removes them', async () => {
    const cfgFile = path.join(d.dir, 'docker-config', 'config.json');
    const bad = await d.docker(['login', '-u', 'alice', '--password-stdin', locked.host], {
      input: 'wrong\n',
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unauthorized|incorrect username or password/);

    const anon = await d.berth(['pull', `${locked.host}/priv/app:1`]);
    assert.notEqual(anon.code, 0);

    assert.match(
      ok(await d.berth(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 's3cret\n' })),
      /Login Succeeded/,
    );
    const st = await fsp.stat(cfgFile);
    assert.equal(st.mode & 0o777, 0o600);
    const saved = JSON.parse(await fsp.readFile(cfgFile, 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    assert.equal(Buffer.from(saved.auths[locked.host]!.auth, 'base64').toString(), 'alice:s3cret');
    assert.doesNotMatch(d.logs(), /s3cret/, 'credentials never reach the daemon log');

    const ref = `${locked.host}/priv/app:1`;
    ok(await d.docker(['tag', `${open.host}/team/app:1`, ref]));
    assert.match(ok(await d.docker(['push', ref])), /Pushed/);
    ok(await d.docker(['rmi', ref]));
    ok(await d.berth(['pull', ref]));

    assert.match(ok(await d.docker(['logout', locked.host])), /Removing login credentials/);
    const after = JSON.parse(await fsp.readFile(cfgFile, 'utf8')) as { auths: Record<string, unknown> };
    assert.equal(after.auths[locked.host], undefined);
    const denied = await d.berth(['pull', ref]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /access denied|unauthorized|denied/i);
  });
});
